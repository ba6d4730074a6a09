/**
 * Step Functions engine overhead per state transition: executions of a 200-state Pass chain and of
 * a Wait-0 loop (Pass → Choice → Wait 0, 100 times) run by the local stack's engine (interpreter,
 * compiled definition, Task/Wait handlers, history recording; no persistence), from the build, as
 * the server runs it. The baseline is a plain loop of as many `await`s as there are transitions,
 * timed in the same run.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, report } from './report.js';

type ClockModule = typeof import('../src/local/core/clock.js');
type Validate = typeof import('../src/local/services/stepfunctions/engine/validate.js');
type Compile = typeof import('../src/local/services/stepfunctions/engine/compile.js');
type Runner = typeof import('../src/local/services/stepfunctions/engine/runner.js');

async function built<T>(module: string): Promise<T> {
  const url = new URL(`../dist/local/${module}`, import.meta.url);
  if (!existsSync(fileURLToPath(url)))
    throw new Error('Build first: npm run build (the benchmarks use dist/).');
  return (await import(url.href)) as T;
}

const RUNS = 30;
const WARMUP = 10;

export async function benchStepFunctions(): Promise<void> {
  const { ScaledClock } = await built<ClockModule>('core/clock.js');
  const { checkDefinition } = await built<Validate>('services/stepfunctions/engine/validate.js');
  const { compileDefinition } = await built<Compile>('services/stepfunctions/engine/compile.js');
  const { ExecutionRun } = await built<Runner>('services/stepfunctions/engine/runner.js');
  // Pass, Choice and Wait states call no other service.
  const services = { invoke: () => Promise.reject(new Error('no services')), serves: () => false };
  const clock = new ScaledClock();
  const timeScale = clock.timeScale;

  async function timeExecutions(
    definition: object,
    input: object,
  ): Promise<{ ms: number; transitions: number }> {
    const checked = await checkDefinition(JSON.stringify(definition), { services, region: 'us-east-1' });
    const machine = compileDefinition(checked, { timeScale });
    const times: number[] = [];
    let transitions = 0;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const started = process.hrtime.bigint();
      const run = new ExecutionRun(
        machine,
        {
          executionArn: `arn:aws:states:us-east-1:000000000000:execution:bench:${i}`,
          name: String(i),
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
          stateMachineName: 'bench',
          roleArn: 'arn:aws:iam::000000000000:role/bench',
          startDate: clock.now(),
        },
        input as never,
        JSON.stringify(input),
        { clock, region: 'us-east-1' },
      );
      const outcome = await run.start();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (outcome.status !== 'SUCCEEDED')
        throw new Error(`bench execution ended ${outcome.status}: ${outcome.cause}`);
      transitions = run.history.events.filter((e) => e.type!.endsWith('StateEntered')).length;
      if (i >= WARMUP) times.push(ms); // the first runs warm the JIT up
    }
    return { ms: median(times), transitions };
  }

  async function awaitLoop(count: number): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const started = process.hrtime.bigint();
      for (let j = 0; j < count; j++) await Promise.resolve(j);
      if (i >= WARMUP) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(times);
  }

  const chainStates: Record<string, object> = {};
  for (let i = 0; i < 200; i++)
    chainStates[`S${i}`] = i === 199 ? { Type: 'Pass', End: true } : { Type: 'Pass', Next: `S${i + 1}` };
  const chain = await timeExecutions({ StartAt: 'S0', States: chainStates }, { payload: 'x'.repeat(200) });
  const loop = await timeExecutions(
    {
      StartAt: 'Count',
      States: {
        Count: { Type: 'Pass', Parameters: { 'i.$': 'States.MathAdd($.i, 1)' }, Next: 'More?' },
        'More?': {
          Type: 'Choice',
          Choices: [{ Variable: '$.i', NumericLessThan: 100, Next: 'Pause' }],
          Default: 'Done',
        },
        Pause: { Type: 'Wait', Seconds: 0, Next: 'Count' },
        Done: { Type: 'Succeed' },
      },
    },
    { i: 0 },
  );
  for (const [name, result] of [
    ['sfn: 200 Pass chain', chain],
    ['sfn: Wait-0 loop', loop],
  ] as const) {
    const baseline = await awaitLoop(result.transitions);
    report(`${name} (awaits)`, { median_ms: baseline, transitions: result.transitions });
    report(name, {
      median_ms: result.ms,
      us_per_transition: (result.ms * 1000) / result.transitions,
      ratio: result.ms / baseline,
    });
  }
}
