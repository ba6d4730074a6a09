// The CloudFormation template engine: YAML short forms, validation messages, parameters, conditions,
// intrinsic functions, dependency order and change-set diffs — all pure, no local stack needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  buildDependencyGraph,
  createResourceTypeRegistry,
  describeParameters,
  diffTemplates,
  evaluateConditions,
  includedOutputs,
  includedResources,
  loadTemplate,
  parseTemplate,
  requiredCapabilities,
  resolveOutputs,
  resolveParameters,
  resolveResourceProperties,
  resolveValue,
  TemplateError,
  TemplateParseError,
  validateTemplate,
  type ChangeSetSide,
  type PseudoParameters,
  type ResolveContext,
  type Template,
  type TemplateValue,
} from '../../src/local/services/cloudformation/template/index.js';

const pseudo: PseudoParameters = {
  stackName: 'lake',
  stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/lake/0f1e2d3c',
  region: 'eu-west-1',
  accountId: '123456789012',
};

const registry = createResourceTypeRegistry({
  'AWS::S3::Bucket': {
    attributes: ['Arn', 'DomainName', 'RegionalDomainName'],
    replacementProperties: ['BucketName'],
  },
  'AWS::S3::BucketPolicy': { attributes: [], replacementProperties: ['Bucket'] },
  'AWS::IAM::Role': { attributes: ['Arn', 'RoleId'], replacementProperties: ['RoleName', 'Path'] },
  'AWS::SQS::Queue': { attributes: ['Arn', 'QueueName', 'QueueUrl'], replacementProperties: ['QueueName'] },
  'AWS::RDS::DBInstance': { attributes: ['Endpoint.Address', 'Endpoint.Port'] },
  'Custom::Anything': {},
});

/** Asserts that `fn` throws a TemplateError whose (first) message is exactly `message`. */
function throwsTemplateError(fn: () => unknown, message: string): TemplateError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TemplateError, `expected a TemplateError, got ${String(caught)}`);
  assert.equal(caught.code, 'ValidationError');
  assert.equal(caught.message, message);
  return caught;
}

/** All messages of the TemplateError `fn` throws. */
function templateErrors(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${String(error)}`);
    return error.messages;
  }
  assert.fail('expected a TemplateError');
}

function load(body: string): Template {
  return loadTemplate(body, { registry });
}

/** A template with one resource R whose property P is `value` (YAML), after `head` (YAML sections). */
function withProperty(value: string, head = ''): string {
  return `${head}Resources:\n  R:\n    Type: AWS::SQS::Queue\n    Properties:\n      P: ${value}\n`;
}

interface Fakes {
  ref?: ResolveContext['ref'];
  getAtt?: ResolveContext['getAtt'];
  importValue?: ResolveContext['importValue'];
}

/** Resolves resource R's property P of a template, with the given parameter values. */
function resolveP(
  body: string,
  given: Record<string, string> = {},
  fakes: Fakes = {},
): TemplateValue | undefined {
  const template = load(body);
  const parameters = resolveParameters(template, given).values;
  const conditions = evaluateConditions(template, { parameters, pseudo });
  const ctx: ResolveContext = { parameters, pseudo, mappings: template.Mappings, conditions, ...fakes };
  return resolveResourceProperties(template, 'R', ctx).P;
}

const fakeRef = (logicalId: string): string => `${logicalId.toLowerCase()}-physical-id`;
const fakeGetAtt = (logicalId: string, attribute: string): string => `${logicalId}.${attribute}-value`;

describe('parseTemplate: YAML short forms', () => {
  it('turns every short-form tag into its long form, on scalars, sequences and maps', () => {
    const parsed = parseTemplate(
      [
        'A: !Ref Bucket',
        'B: !GetAtt Bucket.Arn',
        'C: !GetAtt [Bucket, Arn]',
        'D: !GetAtt Db.Endpoint.Address',
        "E: !Sub '${AWS::Region}-x'",
        'F: !Sub [ "${V}", { V: !Ref P } ]',
        'G: !Join [ "-", [ a, !Ref P ] ]',
        'H: !Select [ 1, !Split [ ",", "a,b" ] ]',
        'I: !If [ IsProd, yes-value, !Ref AWS::NoValue ]',
        'J: !Equals [ !Ref P, x ]',
        'K: !Not [ !Condition IsProd ]',
        'L: !And [ !Condition IsProd, !Or [ !Condition X, !Condition Y ] ]',
        'M: !FindInMap [ Map, !Ref AWS::Region, Key ]',
        'N: !ImportValue shared-vpc',
        "O: !ImportValue { 'Fn::Sub': '${Env}-vpc' }",
        'P: !Base64 hello',
        'Q: !Base64 { Ref: P }',
        "R: !GetAZs ''",
        'S: !GetAZs',
        'T: !Condition IsProd',
        'U: !Sub |',
        '  line ${P}',
      ].join('\n'),
    );
    assert.deepEqual(parsed, {
      A: { Ref: 'Bucket' },
      B: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
      C: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
      D: { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] },
      E: { 'Fn::Sub': '${AWS::Region}-x' },
      F: { 'Fn::Sub': ['${V}', { V: { Ref: 'P' } }] },
      G: { 'Fn::Join': ['-', ['a', { Ref: 'P' }]] },
      H: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b'] }] },
      I: { 'Fn::If': ['IsProd', 'yes-value', { Ref: 'AWS::NoValue' }] },
      J: { 'Fn::Equals': [{ Ref: 'P' }, 'x'] },
      K: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      L: { 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Or': [{ Condition: 'X' }, { Condition: 'Y' }] }] },
      M: { 'Fn::FindInMap': ['Map', { Ref: 'AWS::Region' }, 'Key'] },
      N: { 'Fn::ImportValue': 'shared-vpc' },
      O: { 'Fn::ImportValue': { 'Fn::Sub': '${Env}-vpc' } },
      P: { 'Fn::Base64': 'hello' },
      Q: { 'Fn::Base64': { Ref: 'P' } },
      R: { 'Fn::GetAZs': '' },
      S: { 'Fn::GetAZs': '' },
      T: { Condition: 'IsProd' },
      U: { 'Fn::Sub': 'line ${P}\n' },
    });
  });

  it('handles block-style tagged sequences and maps', () => {
    const parsed = parseTemplate(
      [
        'Value: !Join',
        '  - ""',
        "  - - 'arn:aws:s3:::'",
        '    - !Ref Bucket',
        'Other: !If',
        '  - C',
        '  - A: 1',
        '  - B: 2',
      ].join('\n'),
    );
    assert.deepEqual(parsed, {
      Value: { 'Fn::Join': ['', ['arn:aws:s3:::', { Ref: 'Bucket' }]] },
      Other: { 'Fn::If': ['C', { A: 1 }, { B: 2 }] },
    });
  });

  it('parses JSON templates to the same tree as the equivalent YAML', () => {
    const yaml =
      'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub "${AWS::StackName}-b"\n';
    const json = JSON.stringify({
      Resources: {
        B: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': '${AWS::StackName}-b' } } },
      },
    });
    assert.deepEqual(parseTemplate(json), parseTemplate(yaml));
  });

  it('keeps numbers written in a non-canonical way as written (GlueVersion: 4.0 stays "4.0")', () => {
    assert.deepEqual(parseTemplate('GlueVersion: 4.0\nWorkers: 10\nRatio: 0.5\nCode: 0123\n'), {
      GlueVersion: '4.0',
      Workers: 10,
      Ratio: 0.5,
      Code: '0123',
    });
  });

  it('reports YAML syntax errors with line and column', () => {
    let caught: unknown;
    try {
      parseTemplate('Resources:\n  B:\n    Type: AWS::S3::Bucket\n   Properties: [\n');
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof TemplateParseError);
    assert.match(caught.message, /^Template format error: YAML not well-formed\. \(line \d+, column \d+\): /);
    assert.equal(typeof caught.line, 'number');
  });

  it('reports duplicate keys and unknown tags at their line', () => {
    const duplicate = throwsTemplateErrorLike(() => parseTemplate('A: 1\nB: 2\nA: 3\n'));
    assert.match(duplicate.message, /\(line 3, column 1\): Map keys must be unique/);
    const unknownTag = throwsTemplateErrorLike(() => parseTemplate('A: 1\nB: !Cidr [a, 1, 2]\n'));
    assert.match(unknownTag.message, /\(line 2, column 4\): .*!Cidr/);
  });

  it('rejects YAML aliases as CloudFormation does', () => {
    throwsTemplateError(
      () => parseTemplate('Tags: &tags\n  - Key: a\n    Value: b\nOther: *tags\n'),
      'Template error: YAML aliases are not allowed in CloudFormation templates (line 4, column 8)',
    );
  });

  it('reports JSON syntax errors with line and column', () => {
    const error = throwsTemplateErrorLike(() => parseTemplate('{\n  "Resources": {\n    "B": }\n}'));
    assert.ok(error instanceof TemplateParseError);
    assert.match(error.message, /^Template format error: JSON not well-formed\. \(line 3, column \d+\)$/);
    assert.equal(error.line, 3);
  });
});

function throwsTemplateErrorLike(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a TemplateError');
}

describe('intrinsic functions', () => {
  const head = [
    'Parameters:',
    '  Env: {Type: String, Default: dev}',
    '  Subnets: {Type: CommaDelimitedList, Default: "subnet-1, subnet-2,subnet-3"}',
    '  Ports: {Type: List<Number>, Default: "80,443"}',
    'Mappings:',
    '  RegionMap:',
    '    eu-west-1: {Ami: ami-west, Size: 3}',
    '    us-east-1: {Ami: ami-east, Size: 2}',
    'Conditions:',
    '  IsProd: !Equals [!Ref Env, prod]',
    '  IsWest: !Equals [!FindInMap [RegionMap, !Ref "AWS::Region", Ami], ami-west]',
    '',
  ].join('\n');
  const p = (
    value: string,
    given: Record<string, string> = {},
    fakes: Fakes = {},
  ): TemplateValue | undefined =>
    resolveP(withProperty(value, head) + '  Res:\n    Type: AWS::S3::Bucket\n', given, fakes);
  const fakes = { ref: fakeRef, getAtt: fakeGetAtt };

  it('Ref: parameters, list parameters, pseudo parameters and resources', () => {
    assert.equal(p('!Ref Env'), 'dev');
    assert.deepEqual(p('!Ref Subnets'), ['subnet-1', 'subnet-2', 'subnet-3']);
    assert.deepEqual(p('!Ref Ports'), ['80', '443']);
    assert.equal(p('!Ref AWS::Region'), 'eu-west-1');
    assert.equal(p('!Ref AWS::AccountId'), '123456789012');
    assert.equal(p('!Ref AWS::StackName'), 'lake');
    assert.equal(p('!Ref AWS::StackId'), pseudo.stackId);
    assert.equal(p('!Ref AWS::Partition'), 'aws');
    assert.equal(p('!Ref AWS::URLSuffix'), 'amazonaws.com');
    assert.deepEqual(p('!Ref AWS::NotificationARNs'), []);
    assert.equal(p('!Ref Res', {}, fakes), 'res-physical-id');
  });

  it('Fn::GetAtt in both forms, including dotted attribute names', () => {
    assert.equal(p('!GetAtt Res.Arn', {}, fakes), 'Res.Arn-value');
    assert.equal(p('{"Fn::GetAtt": [Res, DomainName]}', {}, fakes), 'Res.DomainName-value');
    const withDb = `${head}Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n  R:\n    Type: AWS::SQS::Queue\n    Properties:\n      P: !GetAtt Db.Endpoint.Address\n`;
    assert.equal(resolveP(withDb, {}, fakes), 'Db.Endpoint.Address-value');
  });

  it('Fn::Sub string form: parameters, attributes, resources, pseudo parameters and ${!Literal} escapes', () => {
    assert.equal(
      p(
        "!Sub '${Env}/${Res.Arn}/${Res}/${AWS::Region}/${AWS::AccountId}/${!Literal}/${!Res.Arn}'",
        {},
        fakes,
      ),
      'dev/Res.Arn-value/res-physical-id/eu-west-1/123456789012/${Literal}/${Res.Arn}',
    );
    assert.equal(p("!Sub 'no variables at all'"), 'no variables at all');
  });

  it('Fn::Sub list form: local variables (with functions) take precedence over parameters', () => {
    assert.equal(
      p(
        "!Sub ['${Env}-${Zone}-${Bucket}', {Env: local, Zone: !Select [0, !GetAZs ''], Bucket: !Ref Res}]",
        {},
        fakes,
      ),
      'local-eu-west-1a-res-physical-id',
    );
    assert.equal(p("!Sub ['${Env}-${AWS::Region}', {}]"), 'dev-eu-west-1');
  });

  it('Fn::Join with nested functions (Ref list, Select, If with AWS::NoValue, GetAZs)', () => {
    assert.equal(p('!Join [",", !Ref Subnets]'), 'subnet-1,subnet-2,subnet-3');
    assert.equal(
      p('!Join ["-", [a, !Select [1, !Ref Subnets], !If [IsProd, prod, !Ref AWS::NoValue], !Ref Env]]'),
      'a-subnet-2-dev',
    );
    assert.equal(p('!Join ["-", [a, !If [IsProd, prod, !Ref AWS::NoValue]]]', { Env: 'prod' }), 'a-prod');
    assert.equal(p('!Join ["", !GetAZs ""]'), 'eu-west-1aeu-west-1beu-west-1c');
    assert.equal(p('!Join ["", [n, 1, true]]'), 'n1true');
  });

  it('Fn::Select with nested functions and a string index; out of range is an error naming the property', () => {
    assert.equal(p('!Select [2, !Split [",", "a,b,c"]]'), 'c');
    assert.equal(p('!Select ["0", [!Ref Env, b]]'), 'dev');
    assert.equal(p('!Select [1, !If [IsWest, [w1, w2], [e1, e2]]]'), 'w2');
    throwsTemplateError(
      () => p('!Select [3, [a, b]]'),
      'Template error: Fn::Select cannot select nonexistent value at index 3 (at /Resources/R/Properties/P/Fn::Select)',
    );
  });

  it('Fn::Split', () => {
    assert.deepEqual(p('!Split [",", "a,b,,c"]'), ['a', 'b', '', 'c']);
    assert.deepEqual(p('!Split ["|", !Join ["|", [x, !Ref Env]]]'), ['x', 'dev']);
  });

  it('Fn::If picks a branch; AWS::NoValue removes the property or list element', () => {
    assert.equal(p('!If [IsProd, big, small]'), 'small');
    assert.equal(p('!If [IsProd, big, small]', { Env: 'prod' }), 'big');
    assert.deepEqual(p('[a, !If [IsProd, b, !Ref AWS::NoValue], c]'), ['a', 'c']);
    assert.deepEqual(p('{Keep: 1, Drop: !If [IsProd, x, !Ref AWS::NoValue]}'), { Keep: 1 });
    assert.equal(p('!If [IsProd, x, !Ref AWS::NoValue]'), undefined);
    assert.deepEqual(p('!If [IsWest, {Nested: !If [IsProd, a, !Sub "${Env}-b"]}, none]'), {
      Nested: 'dev-b',
    });
  });

  it('Fn::FindInMap, with a missing key as an error', () => {
    assert.equal(p('!FindInMap [RegionMap, !Ref AWS::Region, Ami]'), 'ami-west');
    assert.equal(p('!FindInMap [RegionMap, us-east-1, Size]'), 2);
    throwsTemplateError(
      () => p('!FindInMap [RegionMap, !Ref Env, Ami]'),
      'Template error: Unable to get mapping for RegionMap::dev::Ami (at /Resources/R/Properties/P/Fn::FindInMap)',
    );
  });

  it('Fn::ImportValue through the callback; a missing export is an error', () => {
    const importValue = (name: string): string | undefined => (name === 'dev-vpc' ? 'vpc-123' : undefined);
    assert.equal(p("!ImportValue {'Fn::Sub': '${Env}-vpc'}", {}, { importValue }), 'vpc-123');
    throwsTemplateError(
      () => p('!ImportValue other', {}, { importValue }),
      'No export named other found. (at /Resources/R/Properties/P/Fn::ImportValue)',
    );
  });

  it('Fn::Base64 and Fn::GetAZs', () => {
    assert.equal(p('!Base64 "hello world"'), 'aGVsbG8gd29ybGQ=');
    assert.equal(p('!Base64 {"Fn::Sub": "${Env}-x"}'), Buffer.from('dev-x').toString('base64'));
    assert.deepEqual(p("!GetAZs ''"), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    assert.deepEqual(p('!GetAZs us-east-1'), ['us-east-1a', 'us-east-1b', 'us-east-1c']);
    assert.deepEqual(p('!GetAZs {Ref: "AWS::Region"}'), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  });

  it('Fn::Equals / And / Or / Not / Condition in conditions', () => {
    const template = load(
      [
        'Parameters:',
        '  Env: {Type: String, Default: dev}',
        '  Size: {Type: Number, Default: 3}',
        'Conditions:',
        '  IsProd: !Equals [!Ref Env, prod]',
        '  IsThree: !Equals [!Ref Size, 3]',
        '  ProdAndThree: !And [!Condition IsProd, !Condition IsThree]',
        '  ProdOrThree: !Or [!Condition IsProd, !Condition IsThree]',
        '  NotProd: !Not [!Condition IsProd]',
        '  Nested: !Or [!Equals [a, b], !And [!Condition NotProd, !Not [!Equals [!Ref Env, test]]]]',
        'Resources:',
        '  B: {Type: AWS::S3::Bucket}',
      ].join('\n'),
    );
    const parameters = resolveParameters(template, {}).values;
    assert.deepEqual(evaluateConditions(template, { parameters, pseudo }), {
      IsProd: false,
      IsThree: true,
      ProdAndThree: false,
      ProdOrThree: true,
      NotProd: true,
      Nested: true,
    });
  });

  it('an unsupported function is a validation error', () => {
    throwsTemplateError(
      () => load(withProperty('{"Fn::Cidr": ["10.0.0.0/16", 2, 8]}')),
      'Template format error: Encountered unsupported function: Fn::Cidr Supported functions are: [Fn::And, Fn::Base64, ' +
        'Fn::Equals, Fn::FindInMap, Fn::GetAtt, Fn::GetAZs, Fn::If, Fn::ImportValue, Fn::Join, Fn::Not, Fn::Or, ' +
        'Fn::Select, Fn::Split, Fn::Sub, Ref]',
    );
  });

  it('resolveValue without physical IDs fails, or (partial) leaves references in place', () => {
    const template = load(withProperty('x') + '  Res:\n    Type: AWS::S3::Bucket\n');
    const base = { parameters: {}, pseudo, mappings: template.Mappings, conditions: {} };
    const value: TemplateValue = { 'Fn::Sub': '${Res.Arn}/${AWS::Region}/${!Keep}' };
    throwsTemplateError(
      () => resolveValue(value, base, '/Outputs/O/Value'),
      'Template error: Fn::GetAtt Res.Arn cannot be resolved: no such value yet (at /Outputs/O/Value/Fn::Sub)',
    );
    assert.deepEqual(resolveValue(value, { ...base, partial: true }), {
      'Fn::Sub': '${Res.Arn}/eu-west-1/${!Keep}',
    });
    assert.deepEqual(
      resolveValue(
        { 'Fn::Join': ['-', [{ Ref: 'Res' }, { Ref: 'AWS::Region' }]] },
        { ...base, partial: true },
      ),
      {
        'Fn::Join': ['-', [{ Ref: 'Res' }, 'eu-west-1']],
      },
    );
  });
});

describe('conditions', () => {
  const body = [
    'Parameters:',
    '  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}',
    'Conditions:',
    '  IsProd: !Equals [!Ref Env, prod]',
    'Resources:',
    '  Always: {Type: AWS::S3::Bucket}',
    '  ProdOnly: {Type: AWS::S3::Bucket, Condition: IsProd}',
    '  Queue:',
    '    Type: AWS::SQS::Queue',
    '    Properties:',
    '      QueueName: !If [IsProd, !Ref ProdOnly, !Ref AWS::NoValue]',
    '      Tags: [{Key: a, Value: b}, !If [IsProd, {Key: prod, Value: "yes"}, !Ref AWS::NoValue]]',
    'Outputs:',
    '  AlwaysName: {Value: !Ref Always}',
    '  ProdName: {Value: !Ref ProdOnly, Condition: IsProd}',
  ].join('\n');

  function evaluate(env: string): {
    template: Template;
    ctx: ResolveContext;
    conditions: Record<string, boolean>;
  } {
    const template = load(body);
    const parameters = resolveParameters(template, { Env: env }).values;
    const conditions = evaluateConditions(template, { parameters, pseudo });
    return {
      template,
      conditions,
      ctx: { parameters, pseudo, mappings: template.Mappings, conditions, ref: fakeRef, getAtt: fakeGetAtt },
    };
  }

  it('excludes resources and outputs whose condition is false, and their dependencies', () => {
    const dev = evaluate('dev');
    assert.deepEqual(includedResources(dev.template, dev.conditions), ['Always', 'Queue']);
    assert.deepEqual(includedOutputs(dev.template, dev.conditions), ['AlwaysName']);
    assert.deepEqual(buildDependencyGraph(dev.template, { conditions: dev.conditions }).creationOrder(), [
      'Always',
      'Queue',
    ]);
    assert.deepEqual(resolveResourceProperties(dev.template, 'Queue', dev.ctx), {
      Tags: [{ Key: 'a', Value: 'b' }],
    });
    assert.deepEqual(resolveOutputs(dev.template, dev.ctx), [
      { OutputKey: 'AlwaysName', OutputValue: 'always-physical-id' },
    ]);

    const prod = evaluate('prod');
    assert.deepEqual(includedResources(prod.template, prod.conditions), ['Always', 'ProdOnly', 'Queue']);
    const graph = buildDependencyGraph(prod.template, { conditions: prod.conditions });
    assert.deepEqual(graph.dependenciesOf('Queue'), ['ProdOnly']);
    assert.deepEqual(resolveResourceProperties(prod.template, 'Queue', prod.ctx), {
      QueueName: 'prodonly-physical-id',
      Tags: [
        { Key: 'a', Value: 'b' },
        { Key: 'prod', Value: 'yes' },
      ],
    });
    assert.deepEqual(
      resolveOutputs(prod.template, prod.ctx).map((output) => output.OutputKey),
      ['AlwaysName', 'ProdName'],
    );
  });

  it('a reference to an excluded resource outside Fn::If is an unresolved dependency', () => {
    const template = load(body.replace('!If [IsProd, !Ref ProdOnly, !Ref AWS::NoValue]', '!Ref ProdOnly'));
    const parameters = resolveParameters(template, {}).values;
    const conditions = evaluateConditions(template, { parameters, pseudo });
    throwsTemplateError(
      () => buildDependencyGraph(template, { conditions }),
      'Template format error: Unresolved resource dependencies [ProdOnly] in the Resources block of the template',
    );
  });

  it('condition errors: cycles, unknown conditions, references to resources, non-boolean expressions', () => {
    const resources = 'Resources:\n  B: {Type: AWS::S3::Bucket}\n';
    throwsTemplateError(
      () => load(`Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\n${resources}`),
      'Template format error: Circular dependency between conditions: [A, B]',
    );
    throwsTemplateError(
      () => load(`Conditions:\n  A: !Not [!Condition Nope]\n${resources}`),
      'Template error: unresolved condition dependency Nope in Condition',
    );
    throwsTemplateError(
      () => load(`Conditions:\n  A: !Equals [!Ref B, x]\n${resources}`),
      'Template format error: Unresolved dependencies [B]. Cannot reference resources in the Conditions block of the template',
    );
    throwsTemplateError(
      () => load(`Conditions:\n  A: 'yes'\n${resources}`),
      'Template format error: Conditions can only be boolean operations on parameters and other conditions',
    );
    throwsTemplateError(
      () => load('Resources:\n  B: {Type: AWS::S3::Bucket, Condition: Nope}\n'),
      'Template format error: Unresolved condition dependency Nope in the Resources block of the template',
    );
    throwsTemplateError(
      () => load(withProperty('!If [Nope, a, b]')),
      'Template error: unresolved condition dependency Nope in Fn::If',
    );
  });
});

describe('parameters', () => {
  const template = load(
    [
      'Parameters:',
      '  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}',
      '  Name: {Type: String, AllowedPattern: "[a-z][a-z0-9-]*", MinLength: 3, MaxLength: 10}',
      '  Count: {Type: Number, MinValue: 1, MaxValue: 10, Default: 2}',
      '  Ports: {Type: List<Number>, Default: "80, 443"}',
      '  Zones: {Type: CommaDelimitedList, Default: "a, b,c"}',
      '  KeyName: {Type: "AWS::EC2::KeyPair::KeyName", Default: my-key}',
      '  SubnetIds: {Type: "List<AWS::EC2::Subnet::Id>", Default: "subnet-1,subnet-2"}',
      '  Secret: {Type: String, NoEcho: true, Default: hunter2}',
      '  Port: {Type: Number, Default: 8080, ConstraintDescription: must be a port between 1024 and 65535, MinValue: 1024}',
      'Resources:',
      '  B: {Type: AWS::S3::Bucket}',
    ].join('\n'),
  );

  it('uses defaults, typed values for Ref, and given values over defaults', () => {
    const resolved = resolveParameters(template, { Name: 'lake', Count: '7' });
    assert.deepEqual(resolved.values, {
      Env: 'dev',
      Name: 'lake',
      Count: '7',
      Ports: ['80', '443'],
      Zones: ['a', 'b', 'c'],
      KeyName: 'my-key',
      SubnetIds: ['subnet-1', 'subnet-2'],
      Secret: 'hunter2',
      Port: '8080',
    });
    assert.equal(resolved.raw.Zones, 'a, b,c');
    assert.deepEqual(resolved.noEcho, ['Secret']);
  });

  it('masks NoEcho values in describe output', () => {
    const described = describeParameters(resolveParameters(template, { Name: 'lake' }));
    assert.deepEqual(
      described.find((parameter) => parameter.ParameterKey === 'Secret'),
      {
        ParameterKey: 'Secret',
        ParameterValue: '****',
      },
    );
    assert.deepEqual(
      described.find((parameter) => parameter.ParameterKey === 'Name'),
      {
        ParameterKey: 'Name',
        ParameterValue: 'lake',
      },
    );
  });

  it('checks AllowedValues, AllowedPattern (whole value), lengths, numbers and ranges', () => {
    const ok = { Name: 'lake' };
    throwsTemplateError(
      () => resolveParameters(template, { ...ok, Env: 'test' }),
      "Parameter 'Env' must be one of AllowedValues",
    );
    throwsTemplateError(
      () => resolveParameters(template, { Name: 'Lake' }),
      "Parameter 'Name' must match pattern [a-z][a-z0-9-]*",
    );
    throwsTemplateError(
      () => resolveParameters(template, { Name: 'lake!' }),
      "Parameter 'Name' must match pattern [a-z][a-z0-9-]*",
    );
    throwsTemplateError(
      () => resolveParameters(template, { Name: 'ab' }),
      "Parameter 'Name' must contain at least 3 characters",
    );
    throwsTemplateError(
      () => resolveParameters(template, { Name: 'abcdefghijk' }),
      "Parameter 'Name' must contain at most 10 characters",
    );
    throwsTemplateError(
      () => resolveParameters(template, { ...ok, Count: 'two' }),
      "Parameter 'Count' must be a number",
    );
    throwsTemplateError(
      () => resolveParameters(template, { ...ok, Count: '0' }),
      "Parameter 'Count' must be a number not less than 1",
    );
    throwsTemplateError(
      () => resolveParameters(template, { ...ok, Count: '11' }),
      "Parameter 'Count' must be a number not greater than 10",
    );
    throwsTemplateError(
      () => resolveParameters(template, { ...ok, Ports: '80,http' }),
      "Parameter 'Ports' must be a number",
    );
    throwsTemplateError(
      () => resolveParameters(template, { ...ok, Port: '80' }),
      "Parameter 'Port' failed to satisfy constraint: must be a port between 1024 and 65535",
    );
  });

  it('reports missing and unknown parameters', () => {
    throwsTemplateError(() => resolveParameters(template, {}), 'Parameters: [Name] must have values');
    const messages = templateErrors(() =>
      resolveParameters(template, { Name: 'lake', Bogus: 'x', Other: 'y' }),
    );
    assert.deepEqual(messages, ['Parameters: [Bogus, Other] do not exist in the template']);
    const both = templateErrors(() => resolveParameters(template, { Bogus: 'x' }));
    assert.deepEqual(both, [
      'Parameters: [Bogus] do not exist in the template',
      'Parameters: [Name] must have values',
    ]);
  });

  it('rejects unknown and SSM parameter types at validation', () => {
    const resources = 'Resources:\n  B: {Type: AWS::S3::Bucket}\n';
    throwsTemplateError(
      () => load(`Parameters:\n  P: {Type: Strin}\n${resources}`),
      'Template format error: Unrecognized parameter type: Strin',
    );
    throwsTemplateError(
      () => load(`Parameters:\n  P: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /x}\n${resources}`),
      'Template format error: Parameter P has type AWS::SSM::Parameter::Value<String>, which the local stack does not ' +
        'support (SSM parameter types need AWS Systems Manager); use type String and pass the value instead',
    );
    throwsTemplateError(
      () => load(`Parameters:\n  P:\n    Default: x\n${resources}`),
      'Template format error: Every Parameters object must contain a Type member.',
    );
  });
});

describe('dependency order', () => {
  // A diamond, written in reverse so that template order and dependency order disagree:
  // Top depends on Left (GetAtt) and Right (Sub); Left (DependsOn) and Right (Ref) on Base.
  const diamond = load(
    [
      'Resources:',
      '  Top:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      QueueName: !Sub "${Right}-${Left.Arn}"',
      '      Other: !GetAtt Left.Arn',
      '  Right:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      QueueName: !Ref Base',
      '  Left:',
      '    Type: AWS::SQS::Queue',
      '    DependsOn: Base',
      '  Base:',
      '    Type: AWS::S3::Bucket',
      '  Lonely:',
      '    Type: AWS::S3::Bucket',
    ].join('\n'),
  );

  it('creates dependencies first, ties in template order, and deletes in reverse', () => {
    const graph = buildDependencyGraph(diamond);
    assert.deepEqual(graph.resources, ['Top', 'Right', 'Left', 'Base', 'Lonely']);
    assert.deepEqual(graph.dependenciesOf('Top'), ['Right', 'Left']);
    assert.deepEqual(graph.dependentsOf('Base'), ['Right', 'Left']);
    assert.deepEqual(graph.creationOrder(), ['Base', 'Right', 'Left', 'Top', 'Lonely']);
    assert.deepEqual(graph.deletionOrder(), ['Lonely', 'Top', 'Left', 'Right', 'Base']);
    assert.deepEqual(graph.cycle(), []);
  });

  it('DependsOn accepts a list', () => {
    const template = load(
      'Resources:\n  A: {Type: AWS::S3::Bucket, DependsOn: [C, B]}\n  B: {Type: AWS::S3::Bucket}\n  C: {Type: AWS::S3::Bucket}\n',
    );
    assert.deepEqual(buildDependencyGraph(template).creationOrder(), ['B', 'C', 'A']);
  });

  it('reports a cycle with exactly the resources on it', () => {
    const body = [
      'Resources:',
      '  Outside: {Type: AWS::S3::Bucket, DependsOn: A}',
      '  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !Ref C}}',
      '  B: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt A.Arn}}',
      '  C: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub "${B.QueueName}"}}',
    ].join('\n');
    throwsTemplateError(() => load(body), 'Circular dependency between resources: [A, B, C]');
    throwsTemplateError(
      () => load('Resources:\n  A: {Type: AWS::SQS::Queue, Properties: {QueueName: !Ref A}}\n'),
      'Circular dependency between resources: [A]',
    );
    const template = validateTemplate(parseTemplate(body.replace('!Ref C', 'fixed')));
    assert.deepEqual(buildDependencyGraph(template).creationOrder(), ['A', 'Outside', 'B', 'C']);
  });
});

describe('validation messages', () => {
  it('unresolved Ref, Sub variable and DependsOn targets', () => {
    throwsTemplateError(
      () => load(withProperty('!Ref Nope')),
      'Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template',
    );
    const messages = templateErrors(() =>
      load(
        'Resources:\n  A: {Type: AWS::S3::Bucket, DependsOn: Missing, Properties: {BucketName: !Sub "${Other}-x"}}\n',
      ),
    );
    assert.deepEqual(messages, [
      'Template format error: Unresolved resource dependencies [Missing, Other] in the Resources block of the template',
    ]);
    throwsTemplateError(
      () => load(withProperty('x') + 'Outputs:\n  O: {Value: !Ref Ghost}\n'),
      'Template format error: Unresolved resource dependencies [Ghost] in the Outputs block of the template',
    );
  });

  it('Sub list-form variables are not references', () => {
    assert.doesNotThrow(() => load(withProperty("!Sub ['${Local}-x', {Local: y}]")));
  });

  it('unknown resource types (through the registry)', () => {
    throwsTemplateError(
      () =>
        load(
          'Resources:\n  A: {Type: AWS::Foo::Bar}\n  B: {Type: AWS::S3::Bucket}\n  C: {Type: AWS::Baz::Qux}\n',
        ),
      'Template format error: Unrecognized resource types: [AWS::Foo::Bar, AWS::Baz::Qux]',
    );
    assert.doesNotThrow(() => validateTemplate(parseTemplate('Resources:\n  A: {Type: AWS::Foo::Bar}\n')));
  });

  it('GetAtt of an undefined resource or an unsupported attribute', () => {
    throwsTemplateError(
      () => load(withProperty('!GetAtt Foo.Arn')),
      'Template error: instance of Fn::GetAtt references undefined resource Foo',
    );
    throwsTemplateError(
      () => load(withProperty('!Sub "${Foo.Arn}"')),
      'Template error: instance of Fn::GetAtt references undefined resource Foo',
    );
    throwsTemplateError(
      () => load(withProperty('!GetAtt B.Nope') + '  B:\n    Type: AWS::S3::Bucket\n'),
      'Template error: resource B does not support attribute type Nope in Fn::GetAtt',
    );
    assert.doesNotThrow(() =>
      load(withProperty('!GetAtt C.Whatever') + '  C:\n    Type: Custom::Anything\n'),
    );
    throwsTemplateError(
      () => load(withProperty('!GetAtt [B]')),
      'Template error: every Fn::GetAtt object requires two non-empty parameters',
    );
  });

  it('structure: missing Type, missing Resources, unknown sections and attributes, Transform', () => {
    throwsTemplateError(
      () => load('Resources:\n  A:\n    Properties: {}\n'),
      'Template format error: Every Resources object must contain a Type member.',
    );
    throwsTemplateError(
      () => load('Description: nothing\n'),
      'Template format error: At least one Resources member must be defined.',
    );
    throwsTemplateError(
      () => load('Resources: {}\n'),
      'Template format error: At least one Resources member must be defined.',
    );
    throwsTemplateError(
      () => load('Resource:\n  A: {Type: AWS::S3::Bucket}\nResources:\n  A: {Type: AWS::S3::Bucket}\n'),
      'Template format error: Invalid template property or properties [Resource]',
    );
    throwsTemplateError(
      () => load('Resources:\n  A: {Type: AWS::S3::Bucket, Propertes: {}}\n'),
      "Invalid template resource property 'Propertes'",
    );
    throwsTemplateError(
      () => load('Transform: AWS::Serverless-2016-10-31\nResources:\n  A: {Type: AWS::S3::Bucket}\n'),
      'Template format error: Transform AWS::Serverless-2016-10-31 is not supported by the local stack; deploy the ' +
        'processed template (without a Transform section) instead',
    );
    throwsTemplateError(
      () => load('Resources:\n  my-bucket: {Type: AWS::S3::Bucket}\n'),
      'Template format error: Resource name my-bucket is non alphanumeric.',
    );
    throwsTemplateError(() => load('just a string'), 'Template format error: unsupported structure.');
    throwsTemplateError(
      () => load(withProperty('x') + 'Outputs:\n  O: {Description: no value}\n'),
      'Template format error: Every Outputs member must contain a Value object',
    );
    throwsTemplateError(
      () => load(withProperty('!FindInMap [Nope, a, b]')),
      "Template error: Mapping named 'Nope' is not present in the 'Mappings' section of template.",
    );
  });

  it('collects every problem, reporting the first as the message', () => {
    const error = throwsTemplateError(
      () =>
        load('Resources:\n  A: {Type: AWS::Foo::Bar, Properties: {X: !Ref Nope, Y: !GetAtt Ghost.Arn}}\n'),
      'Template format error: Unrecognized resource types: [AWS::Foo::Bar]',
    );
    assert.deepEqual(error.messages, [
      'Template format error: Unrecognized resource types: [AWS::Foo::Bar]',
      'Template error: instance of Fn::GetAtt references undefined resource Ghost',
      'Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template',
    ]);
  });

  it('capabilities: IAM resources need CAPABILITY_IAM, named ones CAPABILITY_NAMED_IAM', () => {
    const role = (properties: string): Template =>
      load(`Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: ${properties}\n`);
    assert.deepEqual(requiredCapabilities(role('{AssumeRolePolicyDocument: {}}')), ['CAPABILITY_IAM']);
    assert.deepEqual(requiredCapabilities(role('{RoleName: r, AssumeRolePolicyDocument: {}}')), [
      'CAPABILITY_NAMED_IAM',
    ]);
    assert.deepEqual(requiredCapabilities(load('Resources:\n  B: {Type: AWS::S3::Bucket}\n')), []);
  });
});

describe('change-set diff', () => {
  const body = (extra = ''): string =>
    [
      'Parameters:',
      '  Project: {Type: String, Default: mlpipe}',
      '  Env: {Type: String, Default: dev}',
      'Conditions:',
      '  IsProd: !Equals [!Ref Env, prod]',
      'Resources:',
      '  Bucket:',
      '    Type: AWS::S3::Bucket',
      '    Properties:',
      '      BucketName: !Sub "${Project}-datalake"',
      '      Tags: [{Key: env, Value: !Ref Env}]',
      '  Policy:',
      '    Type: AWS::S3::BucketPolicy',
      '    Properties:',
      '      Bucket: !Ref Bucket',
      '      PolicyDocument: {Statement: [{Effect: Deny, Resource: !Sub "${Bucket.Arn}/*"}]}',
      '  Queue:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      VisibilityTimeout: 30',
      extra,
    ].join('\n');

  function side(text: string, given: Record<string, string> = {}): ChangeSetSide {
    const template = load(text);
    return { template, parameters: resolveParameters(template, given).values };
  }
  const diff = (previous: ChangeSetSide | undefined, next: ChangeSetSide): ReturnType<typeof diffTemplates> =>
    diffTemplates(previous, next, { pseudo, registry });
  const summary = (changes: ReturnType<typeof diffTemplates>): string[] =>
    changes.map((c) => `${c.action} ${c.logicalId} ${c.replacement} [${c.changedProperties.join(',')}]`);

  it('no changes for identical templates and parameters', () => {
    assert.deepEqual(diff(side(body()), side(body())), []);
    assert.deepEqual(diff(side(body(), { Env: 'prod' }), side(body(), { Env: 'prod' })), []);
    // Writing the same value differently (number vs string) is not a change.
    assert.deepEqual(
      diff(side(body()), side(body().replace('VisibilityTimeout: 30', 'VisibilityTimeout: "30"'))),
      [],
    );
  });

  it('a new stack adds everything', () => {
    assert.deepEqual(summary(diff(undefined, side(body()))), [
      'Add Bucket False []',
      'Add Policy False []',
      'Add Queue False []',
    ]);
  });

  it('adds and removes resources', () => {
    const extra = '  Extra:\n    Type: AWS::SQS::Queue\n';
    assert.deepEqual(summary(diff(side(body()), side(body(extra)))), ['Add Extra False []']);
    const removed = diff(side(body(extra)), side(body()));
    assert.deepEqual(summary(removed), ['Remove Extra False []']);
    assert.equal(removed[0]?.type, 'AWS::SQS::Queue');
  });

  it('modifies without replacement (GetAtt dependents may change too)', () => {
    const changes = diff(side(body()), side(body(), { Env: 'test' }));
    assert.deepEqual(summary(changes), [
      'Modify Bucket False [Tags]',
      'Modify Policy False [PolicyDocument]',
    ]);
    assert.deepEqual(changes[1]?.details, [
      { name: 'PolicyDocument', evaluation: 'Dynamic', requiresRecreation: 'Never', causingEntity: 'Bucket' },
    ]);
    const queue = diff(side(body()), side(body().replace('VisibilityTimeout: 30', 'VisibilityTimeout: 60')));
    assert.deepEqual(summary(queue), ['Modify Queue False [VisibilityTimeout]']);
    assert.deepEqual(queue[0]?.scope, ['Properties']);
  });

  it('modifies with replacement; Ref dependents are conditionally replaced', () => {
    const changes = diff(side(body()), side(body(), { Project: 'other' }));
    assert.deepEqual(summary(changes), [
      'Modify Bucket True [BucketName]',
      'Modify Policy Conditional [Bucket,PolicyDocument]',
    ]);
    assert.deepEqual(changes[0]?.details, [
      { name: 'BucketName', evaluation: 'Static', requiresRecreation: 'Always' },
    ]);
  });

  it('a Type change is a replacement', () => {
    const changed = body().replace('Type: AWS::SQS::Queue', 'Type: Custom::Anything');
    assert.deepEqual(summary(diff(side(body()), side(changed))), ['Modify Queue True []']);
  });

  it('conditions switch resources on and off', () => {
    const extra = '  ProdQueue:\n    Type: AWS::SQS::Queue\n    Condition: IsProd\n';
    assert.deepEqual(summary(diff(side(body(extra)), side(body(extra), { Env: 'prod' }))), [
      'Modify Bucket False [Tags]',
      'Modify Policy False [PolicyDocument]',
      'Add ProdQueue False []',
    ]);
    assert.deepEqual(summary(diff(side(body(extra), { Env: 'prod' }), side(body(extra)))), [
      'Modify Bucket False [Tags]',
      'Modify Policy False [PolicyDocument]',
      'Remove ProdQueue False []',
    ]);
  });

  it('metadata-only changes are modifications scoped to Metadata', () => {
    const withMetadata = (value: string): string =>
      body().replace(
        '    Type: AWS::SQS::Queue',
        `    Type: AWS::SQS::Queue\n    Metadata: {Note: ${value}}`,
      );
    const changes = diff(side(withMetadata('a')), side(withMetadata('b')));
    assert.deepEqual(summary(changes), ['Modify Queue False []']);
    assert.deepEqual(changes[0]?.scope, ['Metadata']);
  });
});

describe('sample data-lake template (test/fixtures/cfn/sample-datalake.yaml)', () => {
  const body = readFileSync(new URL('../fixtures/cfn/sample-datalake.yaml', import.meta.url), 'utf8');

  function deploy(given: Record<string, string>): { template: Template; ctx: ResolveContext } {
    const template = load(body);
    const parameters = resolveParameters(template, given).values;
    const conditions = evaluateConditions(template, { parameters, pseudo });
    const ctx: ResolveContext = {
      parameters,
      pseudo,
      mappings: template.Mappings,
      conditions,
      ref: (logicalId) => (logicalId === 'Bucket' ? 'mlpipe-datalake-123456789012' : `${logicalId}-id`),
      getAtt: (logicalId, attribute) =>
        logicalId === 'Bucket' && attribute === 'Arn'
          ? 'arn:aws:s3:::mlpipe-datalake-123456789012'
          : `arn:aws:iam::123456789012:role/${logicalId}-${attribute}`,
    };
    return { template, ctx };
  }

  it('validates, and orders the bucket before its policy and the role', () => {
    const { template, ctx } = deploy({});
    assert.deepEqual(Object.keys(template.Resources), ['Bucket', 'BucketPolicy', 'PipelineRole']);
    assert.deepEqual(buildDependencyGraph(template, { conditions: ctx.conditions ?? {} }).creationOrder(), [
      'Bucket',
      'BucketPolicy',
      'PipelineRole',
    ]);
    assert.deepEqual(requiredCapabilities(template), ['CAPABILITY_NAMED_IAM']);
  });

  it('resolves the bucket, policy and role with fake physical IDs', () => {
    const { template, ctx } = deploy({});
    const bucket = resolveResourceProperties(template, 'Bucket', ctx);
    assert.equal(bucket.BucketName, 'mlpipe-datalake-123456789012');
    assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.equal(bucket.VersioningConfiguration, undefined, 'NoValue removes the property in dev');
    assert.deepEqual(bucket.LifecycleConfiguration, {
      Rules: [
        { Id: 'expire-recommendations', Status: 'Enabled', Prefix: 'recommendations/', ExpirationInDays: 7 },
      ],
    });

    const policy = resolveResourceProperties(template, 'BucketPolicy', ctx);
    assert.equal(policy.Bucket, 'mlpipe-datalake-123456789012');
    assert.deepEqual(policy.PolicyDocument, {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [
            'arn:aws:s3:::mlpipe-datalake-123456789012',
            'arn:aws:s3:::mlpipe-datalake-123456789012/*',
          ],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });

    const role = resolveResourceProperties(template, 'PipelineRole', ctx);
    assert.equal(role.RoleName, 'mlpipe-pipeline-eu-west-1');
    assert.deepEqual(role.AssumeRolePolicyDocument, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: ['glue.amazonaws.com', 'personalize.amazonaws.com'] },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    const statements = (
      role.Policies as Array<{ PolicyDocument: { Statement: Array<{ Resource: TemplateValue }> } }>
    )[0]?.PolicyDocument.Statement;
    assert.deepEqual(
      statements?.map((statement) => statement.Resource),
      [
        'arn:aws:s3:::mlpipe-datalake-123456789012',
        [
          'arn:aws:s3:::mlpipe-datalake-123456789012/raw/*',
          'arn:aws:s3:::mlpipe-datalake-123456789012/transformed/*',
          'arn:aws:s3:::mlpipe-datalake-123456789012/recommendations/*',
        ],
      ],
    );

    assert.deepEqual(resolveOutputs(template, ctx), [
      {
        OutputKey: 'BucketName',
        OutputValue: 'mlpipe-datalake-123456789012',
        Description: 'Data lake bucket',
        ExportName: 'lake-BucketName',
      },
      {
        OutputKey: 'BucketArn',
        OutputValue: 'arn:aws:s3:::mlpipe-datalake-123456789012',
        ExportName: 'lake-BucketArn',
      },
      { OutputKey: 'PipelineRoleArn', OutputValue: 'arn:aws:iam::123456789012:role/PipelineRole-Arn' },
    ]);
  });

  it('in prod: versioning on, longer lifecycle, the conditional output appears', () => {
    const { template, ctx } = deploy({ Environment: 'prod', ProjectName: 'recs' });
    const bucket = resolveResourceProperties(template, 'Bucket', ctx);
    assert.equal(bucket.BucketName, 'recs-datalake-123456789012');
    assert.deepEqual(bucket.VersioningConfiguration, { Status: 'Enabled' });
    assert.equal(
      (bucket.LifecycleConfiguration as { Rules: Array<{ ExpirationInDays: TemplateValue }> }).Rules[0]
        ?.ExpirationInDays,
      90,
    );
    assert.deepEqual(resolveOutputs(template, ctx).at(-1), {
      OutputKey: 'VersioningEnabled',
      OutputValue: 'versioned (prod)',
    });
  });

  it('rejects a bad project name with the parameter constraint message', () => {
    const template = load(body);
    throwsTemplateError(
      () => resolveParameters(template, { ProjectName: 'Bad_Name' }),
      "Parameter 'ProjectName' must match pattern [a-z][a-z0-9-]*",
    );
  });

  it('round-trips through JSON to the same template', () => {
    const fromYaml = load(body);
    const fromJson = load(JSON.stringify(parseTemplate(body), null, 2));
    assert.deepEqual(fromJson, fromYaml);
  });
});
