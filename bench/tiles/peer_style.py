#!/usr/bin/env python3
"""Turns the peers' Mapnik XML (../shared/bench/peers/style.xml) into a bandoso tileset: the same styles
and layers, without datasources (bandoso attaches its store's), layers renamed to the store's tables.
Usage: peer_style.py STYLE.xml OUT_DIR  — writes OUT_DIR/peer.xml and OUT_DIR/peer.yaml."""
import sys
import xml.etree.ElementTree as ET

source, out_dir = sys.argv[1], sys.argv[2]
tree = ET.parse(source)
for layer in tree.getroot().iter("Layer"):
    for datasource in layer.findall("Datasource"):
        table = next(p.text for p in datasource.iter("Parameter") if p.get("name") == "table")
        layer.remove(datasource)
    layer.set("name", table)
tree.write(f"{out_dir}/peer.xml", encoding="utf-8", xml_declaration=True)
with open(f"{out_dir}/peer.yaml", "w", encoding="utf-8") as f:
    f.write("# The peers' benchmark style, converted by bench/tiles/peer_style.py.\n"
            "name: peer\ntitle: Peer benchmark style\nlayers: [communes, parcels]\nstyle: peer.xml\n"
            "zoom: {min: 0, max: 22}\n")
