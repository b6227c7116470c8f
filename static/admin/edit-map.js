// Admin venue editor: a draggable marker that writes its position into the lon/lat inputs.
// Tapping the map moves the marker too. No tiles are needed: it works over a blank map.
(function () {
  "use strict";
  var el = document.getElementById("edit-map");
  var lon = document.getElementById("lon");
  var lat = document.getElementById("lat");
  if (!el || !lon || !lat || typeof L === "undefined") { return; }
  var start = [parseFloat(lat.value) || 20.03, parseFloat(lon.value) || 110.33];
  var map = L.map(el).setView(start, 15);
  var marker = L.marker(start, { draggable: true, keyboard: true, title: el.getAttribute("aria-label") || "" }).addTo(map);
  function put(ll) {
    marker.setLatLng(ll);
    lon.value = ll.lng.toFixed(7);
    lat.value = ll.lat.toFixed(7);
  }
  marker.on("dragend", function () { put(marker.getLatLng()); });
  map.on("click", function (e) { put(e.latlng); });
  function fromInputs() {
    var y = parseFloat(lat.value), x = parseFloat(lon.value);
    if (isFinite(x) && isFinite(y)) { marker.setLatLng([y, x]); map.panTo([y, x]); }
  }
  lon.addEventListener("change", fromInputs);
  lat.addEventListener("change", fromInputs);
})();
