// Runs the fake Open-Meteo on its own: node examples/fake-weather/main.ts [--port 8090]
import { parseArgs } from 'node:util';
import { startFakeWeather } from './server.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8090' } } });
const w = await startFakeWeather({ port: Number(values.port) });
process.stderr.write(`fake weather upstream on ${w.url}/v1/forecast\n`);
