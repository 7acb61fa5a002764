// Decodes one Mapbox Vector Tile with the reference JavaScript decoder and prints it as JSON, so that the
// C++ tests check bandoso's encoder against an independent implementation.
// Usage: node decode_mvt.mjs TILE_FILE
// Output: {"layers": {name: {"extent", "version", "features": [{"id", "type", "properties", "geometry"}]}}}
// where type is 1 point, 2 line, 3 polygon and geometry is loadGeometry() as [[[x, y], ...], ...].
import {readFileSync} from 'node:fs';
import {PbfReader} from 'pbf';
import {VectorTile} from '@mapbox/vector-tile';

if (process.argv.length !== 3) {
    process.stderr.write('usage: node decode_mvt.mjs TILE_FILE\n');
    process.exit(2);
}

const tile = new VectorTile(new PbfReader(readFileSync(process.argv[2])));
const layers = {};
for (const [name, layer] of Object.entries(tile.layers)) {
    const features = [];
    for (let i = 0; i < layer.length; i++) {
        const feature = layer.feature(i);
        features.push({
            id: feature.id ?? null,
            type: feature.type,
            properties: feature.properties,
            geometry: feature.loadGeometry().map((part) => part.map((p) => [p.x, p.y]))
        });
    }
    layers[name] = {extent: layer.extent, version: layer.version, features};
}
process.stdout.write(`${JSON.stringify({layers})}\n`);
