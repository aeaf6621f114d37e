// The fake EC2 of the aws benchmark in a process of its own, so its XML writing is not counted as the
// gateway's CPU. Prints {"url"} once listening; on stdin `stop` stops a running instance and prints its id
// and the time of the change (ms since the epoch), `tick` advances the fleet one step.
import { createInterface } from 'node:readline';
import { startFakeEc2 } from '../../examples/fake-ec2/server.ts';

const fake = await startFakeEc2({ instances: Number(process.argv[2] ?? 5000), seed: 42 });
process.stdout.write(`${JSON.stringify({ url: fake.url, instances: fake.instances().length })}\n`);
let next = 0;
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'tick') {
    fake.tick();
    process.stdout.write(`${JSON.stringify({ ticked: fake.fleet.step })}\n`);
  }
  if (l === 'stop') {
    const running = fake.instances().filter((i) => i.state === 'running');
    const target = running[(next++ * 97) % running.length];
    if (!target) return;
    fake.setState(target.instanceId, 'stopped');
    process.stdout.write(
      `${JSON.stringify({ id: target.instanceId, at: performance.timeOrigin + performance.now() })}\n`,
    );
  }
});
