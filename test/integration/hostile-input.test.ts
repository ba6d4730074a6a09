// Hostile input to every codec (issue 10, item 6): signed requests that try to write through
// `__proto__`, `constructor` or `prototype`, operation names that only exist on Object.prototype,
// and seeded fuzzing of AWS JSON, Query, REST-JSON and S3 REST-XML requests — bounded in count,
// against a real server in this process, so a polluted prototype would show here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { AwsError } from '../../src/local/core/errors.js';
import { defineService } from '../../src/local/core/service.js';
import { SERVICES } from '../../src/local/services/index.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { signedRequest, type RawReply } from '../helpers/signing.js';

/** Requests per codec: enough to walk every decoder path many times, few enough for CI. */
const FUZZ_COUNT = Number(process.env.MLPIPE_FUZZ_COUNT ?? 150);
const DANGEROUS = ['__proto__', 'constructor', 'prototype'];

/** A REST-JSON service shaped like Personalize Runtime that answers with what it was given. */
const echoRuntime = defineService({
  name: 'echo-runtime',
  displayName: 'Echo Runtime',
  signingName: 'personalize',
  protocol: {
    kind: 'rest-json',
    routes: [
      { method: 'POST', path: '/recommendations', operation: 'GetRecommendations' },
      { method: 'POST', path: '/items/{itemId}/ranking', operation: 'GetPersonalizedRanking' },
    ],
  },
  open: async () => ({}),
  operations: () => ({
    GetRecommendations: async (input: Record<string, unknown>) => {
      if (typeof input.userId !== 'string')
        throw new AwsError('InvalidInputException', 'userId is required.');
      return { itemList: [], recommendationId: String(Object.keys(input).length) };
    },
    GetPersonalizedRanking: async (input: Record<string, unknown>) => ({
      personalizedRanking: [{ itemId: String(input.itemId) }],
    }),
  }),
});

/** mulberry32: a small seeded PRNG, so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzz {
  constructor(private readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  word(): string {
    return this.pick([
      ...DANGEROUS,
      'Name',
      'Role',
      'Command',
      'JobName',
      'Tags',
      'Condition',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'member',
      'entry',
      '1',
      '0',
      'x'.repeat(1 + this.int(300)),
      'ü名\u0000\uffff',
      '',
    ]);
  }
  scalar(): unknown {
    return this.pick([
      () => this.word(),
      () => this.int(1e9) - 5e8,
      () => this.random() * 1e300,
      () => this.chance(0.5),
      () => null,
    ])();
  }
  json(depth = 0): unknown {
    if (depth > 5 || this.chance(0.35)) return this.scalar();
    if (this.chance(0.3)) return Array.from({ length: this.int(4) }, () => this.json(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = this.int(5); i > 0; i--)
      Object.defineProperty(out, this.word(), {
        value: this.json(depth + 1),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    return out;
  }
  jsonText(): string {
    const text = JSON.stringify(this.json());
    if (this.chance(0.1)) return text.slice(0, this.int(text.length + 1)); // cut short
    if (this.chance(0.05))
      return `{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}`;
    return text;
  }
  queryName(): string {
    return Array.from({ length: 1 + this.int(4) }, () => this.word() || 'member').join('.');
  }
}

function prototypeSnapshot(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((proto) => Object.getOwnPropertyNames(proto).sort().join(','))
    .join('|');
}

describe('hostile input', () => {
  let stack: TestStack;
  let before_: string;
  before(async () => {
    before_ = prototypeSnapshot();
    stack = await startTestStack({ services: [...SERVICES, echoRuntime] });
  });
  after(async () => {
    await stack.stop();
  });

  const json = (target: string, body: string, service = 'glue'): Promise<RawReply> =>
    signedRequest(stack, {
      service,
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body,
    });
  const query = (body: string): Promise<RawReply> =>
    signedRequest(stack, {
      service: 'cloudformation',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });

  it('finds only a service’s own operations: AWSGlue.constructor is UnknownOperationException', async () => {
    for (const operation of [...DANGEROUS, 'toString', 'hasOwnProperty', 'valueOf']) {
      const reply = await json(`AWSGlue.${operation}`, '{}');
      assert.equal(reply.status, 400, `AWSGlue.${operation}`);
      assert.deepEqual(JSON.parse(reply.body), {
        __type: 'UnknownOperationException',
        message: `The mlpipe local stack does not implement Glue operation ${operation}.`,
      });
    }
    for (const prefix of DANGEROUS) {
      const reply = await json(`${prefix}.GetJobs`, '{}');
      assert.equal(reply.status, 400, prefix);
      assert.equal((JSON.parse(reply.body) as { __type: string }).__type, 'UnknownOperationException');
    }
    for (const action of [...DANGEROUS, 'toString']) {
      const reply = await query(`Action=${action}&Version=2010-05-15`);
      assert.equal(reply.status, 400, action);
      assert.match(reply.body, /<Code>InvalidAction<\/Code>/);
    }
  });

  it('never writes through __proto__ from a Query request, so later deploys still work', async () => {
    const polluting = await query(
      'Action=ValidateTemplate&Version=2010-05-15&__proto__.Condition=Nope&constructor.prototype.Condition=Nope' +
        `&TemplateBody=${encodeURIComponent('Resources:\n  B:\n    Type: AWS::S3::Bucket\n')}`,
    );
    assert.equal(polluting.status, 200, polluting.body);
    assert.equal(({} as Record<string, unknown>).Condition, undefined);
    const cfn = new CloudFormationClient(sdkConfig(stack));
    await cfn.send(
      new CreateStackCommand({
        StackName: 'after-pollution',
        TemplateBody:
          'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: after-pollution\n',
      }),
    );
    let status = '';
    while (status === '' || status.endsWith('_IN_PROGRESS')) {
      const described = await cfn.send(new DescribeStacksCommand({ StackName: 'after-pollution' }));
      status = described.Stacks?.[0]?.StackStatus ?? '';
      if (status.endsWith('_IN_PROGRESS')) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(status, 'CREATE_COMPLETE');
    cfn.destroy();
  });

  it('never writes through __proto__ from a JSON body, a REST-JSON body or S3 metadata', async () => {
    const body =
      '{"Name":"proto-job","Role":"r","Command":{"Name":"glueetl","__proto__":{"polluted":"yes"}},"__proto__":{"polluted":"yes"},"DefaultArguments":{"__proto__":"kept","constructor":"kept too"}}';
    const created = await json('AWSGlue.CreateJob', body);
    assert.equal(created.status, 200, created.body);
    const job = await json('AWSGlue.GetJob', '{"JobName":"proto-job"}');
    const args = (JSON.parse(job.body) as { Job: { DefaultArguments: Record<string, string> } }).Job
      .DefaultArguments;
    assert.equal(Object.getOwnPropertyDescriptor(args, '__proto__')?.value, 'kept');
    assert.equal(args.constructor, 'kept too');
    const runtime = await signedRequest(stack, {
      service: 'personalize',
      method: 'POST',
      path: '/recommendations',
      headers: { 'content-type': 'application/json' },
      body: '{"userId":"u","__proto__":{"polluted":"yes"}}',
    });
    // Decoded as data: the served Personalize Runtime answers for the missing campaignArn.
    assert.equal(runtime.status, 400, runtime.body);
    assert.match(runtime.body, /campaignArn is required/);
    await signedRequest(stack, { service: 's3', method: 'PUT', path: '/proto-bucket' });
    const put = await signedRequest(stack, {
      service: 's3',
      method: 'PUT',
      path: '/proto-bucket/k',
      headers: {
        'x-amz-meta-__proto__': 'meta',
        'x-amz-meta-constructor': 'c',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
      body: 'x',
    });
    assert.equal(put.status, 200, put.body);
    const head = await signedRequest(stack, { service: 's3', method: 'HEAD', path: '/proto-bucket/k' });
    assert.equal(head.headers['x-amz-meta-__proto__'], 'meta');
    assert.equal(head.headers['x-amz-meta-constructor'], 'c');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(prototypeSnapshot(), before_);
  });

  it(`survives ${FUZZ_COUNT} fuzzed requests per codec with protocol errors, never a server fault`, async () => {
    const fuzz = new Fuzz(prng(20240610));
    const faults: string[] = [];
    const expect = (what: string, reply: RawReply, wellFormed: (body: string) => boolean): void => {
      if (reply.status >= 500 && reply.status !== 501)
        faults.push(`${what} → ${reply.status} ${reply.body.slice(0, 200)}`);
      else if (!wellFormed(reply.body)) faults.push(`${what} → malformed reply ${reply.body.slice(0, 200)}`);
    };
    const isJson = (body: string): boolean => {
      try {
        JSON.parse(body);
        return true;
      } catch {
        return false;
      }
    };
    const isXml = (body: string): boolean => body === '' || body.startsWith('<?xml');

    // AWS JSON: Glue, Personalize, CloudWatch Logs — real and prototype-only operation names.
    const targets: Array<[string, string, string[]]> = [
      [
        'AWSGlue',
        'glue',
        ['CreateJob', 'GetJob', 'GetJobs', 'UpdateJob', 'DeleteJob', 'GetJobRuns', 'BatchStopJobRun'],
      ],
      [
        'AmazonPersonalize',
        'personalize',
        ['CreateSchema', 'DescribeDatasetGroup', 'ListDatasets', 'DeleteSchema', 'ListSchemas'],
      ],
      [
        'Logs_20140328',
        'logs',
        ['CreateLogGroup', 'PutLogEvents', 'GetLogEvents', 'FilterLogEvents', 'DescribeLogStreams'],
      ],
    ];
    for (let i = 0; i < FUZZ_COUNT; i++) {
      const [prefix, service, operations] = fuzz.pick(targets);
      const operation = fuzz.chance(0.15) ? fuzz.pick([...DANGEROUS, 'toString']) : fuzz.pick(operations);
      const body = fuzz.jsonText();
      expect(
        `${prefix}.${operation} ${body.slice(0, 80)}`,
        await json(`${prefix}.${operation}`, body, service),
        isJson,
      );
    }
    // Query: CloudFormation actions with dotted names through every dangerous path.
    const actions = [
      'ValidateTemplate',
      'DescribeStacks',
      'ListStacks',
      'DescribeStackEvents',
      'GetTemplate',
      'ListExports',
      'DeleteStack',
    ];
    for (let i = 0; i < FUZZ_COUNT; i++) {
      const params = new URLSearchParams({
        Action: fuzz.chance(0.1) ? fuzz.pick(DANGEROUS) : fuzz.pick(actions),
        Version: '2010-05-15',
      });
      for (let n = fuzz.int(6); n > 0; n--) params.append(fuzz.queryName(), String(fuzz.scalar()));
      if (fuzz.chance(0.3)) params.append('TemplateBody', JSON.stringify(fuzz.json()));
      const body = params.toString();
      expect(`Query ${body.slice(0, 120)}`, await query(body), isXml);
    }
    // REST-JSON: routes with path members and bodies.
    for (let i = 0; i < FUZZ_COUNT; i++) {
      const path = fuzz.chance(0.5)
        ? '/recommendations'
        : `/items/${encodeURIComponent(fuzz.chance(0.3) ? fuzz.pick(DANGEROUS) : fuzz.word())}/ranking`;
      const reply = await signedRequest(stack, {
        service: 'personalize',
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: fuzz.jsonText(),
      });
      expect(`REST-JSON ${path}`, reply, isJson);
    }
    // S3 REST-XML: methods, paths, sub-resources, metadata headers and XML bodies.
    await signedRequest(stack, { service: 's3', method: 'PUT', path: '/fuzz-bucket' });
    const subresources = [
      '',
      'delete',
      'uploads',
      'tagging',
      'policy',
      'acl',
      'location',
      'list-type=2',
      ...DANGEROUS,
    ];
    for (let i = 0; i < FUZZ_COUNT; i++) {
      const method = fuzz.pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
      const key = fuzz.chance(0.3) ? fuzz.pick(DANGEROUS) : encodeURIComponent(fuzz.word() || 'k');
      const path = fuzz.chance(0.2) ? `/${fuzz.pick(DANGEROUS)}` : `/fuzz-bucket/${key}`;
      const sub = fuzz.pick(subresources);
      const queryParams: Record<string, string> = {};
      if (sub !== '') {
        const [name, value] = sub.split('=');
        queryParams[name!] = value ?? '';
      }
      const headers: Record<string, string> = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      if (fuzz.chance(0.5)) headers[`x-amz-meta-${fuzz.pick(DANGEROUS)}`] = 'v';
      const items = Array.from(
        { length: fuzz.int(4) },
        () => `<Object><Key>${fuzz.pick([...DANGEROUS, 'a', 'b/c'])}</Key></Object>`,
      );
      const body =
        method === 'GET' || method === 'HEAD'
          ? undefined
          : fuzz.chance(0.5)
            ? `<Delete>${items.join('')}</Delete>`
            : fuzz.jsonText();
      const reply = await signedRequest(stack, {
        service: 's3',
        method,
        path,
        query: queryParams,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      // A successful GetObject answers with the object's bytes; everything else S3 says is XML.
      expect(`S3 ${method} ${path}?${sub}`, reply, (text) => reply.status < 300 || isXml(text));
    }
    assert.deepEqual(faults, []);
    assert.equal(prototypeSnapshot(), before_, 'no prototype gained a member');
    const health = await fetch(`${stack.endpoint}/_mlpipe/health`);
    assert.equal(health.status, 200);
  });
});
