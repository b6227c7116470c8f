"""Files in and out: the register importer and exporter, the one renderer registry (``render``),
the coverage report, spreadsheet layout checks (``tables``), the credential files (``accounts``)
and the standalone folium map (``maps``). Above planning and storage, below web and cli.
"""
