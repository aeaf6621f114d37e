// Runs the fake EC2 on its own: node examples/fake-ec2/main.ts [--port 8095] [--instances 3000] [--tick-ms 5000]
import { parseArgs } from 'node:util';
import { startFakeEc2 } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8095' },
    instances: { type: 'string', default: '3000' },
    'tick-ms': { type: 'string', default: '5000' },
  },
});
const ec2 = await startFakeEc2({
  port: Number(values.port),
  instances: Number(values.instances),
  tickMs: Number(values['tick-ms']),
});
process.stderr.write(
  `fake EC2 on ${ec2.url} (${ec2.instances().length} instances in ${[...ec2.fleet.regions.keys()].join(', ')})\n`,
);
