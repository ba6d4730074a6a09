// The CloudFormation templates mlpipe deploys (templates/*.yaml): each parses with the project's
// engine and validates against the published CloudFormation resource specification (types,
// GetAtt attributes, property names at every nesting level, required properties), resolves with
// its parameter defaults, and follows least privilege. The data-lake template gets its own checks:
// private encrypted HTTPS-only bucket kept on deletion, prefix-scoped roles, every output exported.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import aslValidator from 'asl-validator';
import { ConfigFileSchema, resolveSettings } from '../../src/lib/cli/config.js';
import {
  createResourceTypeRegistry,
  evaluateConditions,
  includedResources,
  isTemplateObject,
  loadTemplate,
  requiredCapabilities,
  resolveOutputs,
  resolveParameters,
  resolveResourceProperties,
  type PseudoParameters,
  type ResolveContext,
  type ResolvedOutput,
  type ResourceTypeSpec,
  type Template,
  type TemplateObject,
  type TemplateValue,
} from '../../src/local/services/cloudformation/template/index.js';

// ---------------------------------------------------------------------------------------------
// The published resource specification (v117) as a registry and a property checker.

interface SpecProperty {
  Required?: boolean;
  Type?: string;
  ItemType?: string;
  PrimitiveType?: string;
  PrimitiveItemType?: string;
  UpdateType?: string;
}
interface SpecPropertyType {
  Properties?: Record<string, SpecProperty>;
}
interface SpecResourceType {
  Attributes?: Record<string, unknown>;
  Properties?: Record<string, SpecProperty>;
}
interface Specification {
  ResourceSpecificationVersion: string;
  PropertyTypes: Record<string, SpecPropertyType>;
  ResourceTypes: Record<string, SpecResourceType>;
}

const require = createRequire(import.meta.url);
const spec = JSON.parse(
  readFileSync(require.resolve('@aws-cdk/cfnspec/spec/specification.json'), 'utf8'),
) as Specification;

/**
 * AWS::Personalize::Campaign, added to CloudFormation after the pinned v117 specification, as the
 * CloudFormation resource reference documents it (aws-resource-personalize-campaign): Name
 * replaces; SolutionVersionArn, MinProvisionedTPS and CampaignConfig update without interruption.
 */
spec.ResourceTypes['AWS::Personalize::Campaign'] ??= {
  Attributes: { CampaignArn: { PrimitiveType: 'String' } },
  Properties: {
    Name: { Required: true, PrimitiveType: 'String', UpdateType: 'Immutable' },
    SolutionVersionArn: { Required: true, PrimitiveType: 'String', UpdateType: 'Mutable' },
    MinProvisionedTPS: { Required: false, PrimitiveType: 'Integer', UpdateType: 'Mutable' },
    CampaignConfig: { Required: false, Type: 'CampaignConfig', UpdateType: 'Mutable' },
    Tags: { Required: false, Type: 'List', ItemType: 'Tag', UpdateType: 'Mutable' },
  },
};
spec.PropertyTypes['AWS::Personalize::Campaign.CampaignConfig'] ??= {
  Properties: {
    ItemExplorationConfig: {
      Required: false,
      Type: 'Map',
      PrimitiveItemType: 'String',
      UpdateType: 'Mutable',
    },
    EnableMetadataWithRecommendations: { Required: false, PrimitiveType: 'Boolean', UpdateType: 'Mutable' },
    SyncWithLatestSolutionVersion: { Required: false, PrimitiveType: 'Boolean', UpdateType: 'Mutable' },
  },
};

const registry = createResourceTypeRegistry(
  Object.fromEntries(
    Object.entries(spec.ResourceTypes).map(([type, definition]): [string, ResourceTypeSpec] => [
      type,
      {
        attributes: Object.keys(definition.Attributes ?? {}),
        replacementProperties: Object.entries(definition.Properties ?? {})
          .filter(([, property]) => property.UpdateType === 'Immutable')
          .map(([name]) => name),
      },
    ]),
  ),
);

/** A value the checker cannot see into: an intrinsic function such as `{"Ref": …}` or `{"Fn::Sub": …}`. */
function isIntrinsic(value: TemplateValue): boolean {
  if (!isTemplateObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

/** The alternatives a value may take: both branches of an `Fn::If`, minus `AWS::NoValue`. */
function alternatives(value: TemplateValue): TemplateValue[] {
  if (isTemplateObject(value) && Array.isArray(value['Fn::If']) && value['Fn::If'].length === 3) {
    const [, whenTrue, whenFalse] = value['Fn::If'] as [TemplateValue, TemplateValue, TemplateValue];
    return [...alternatives(whenTrue), ...alternatives(whenFalse)];
  }
  if (isTemplateObject(value) && value.Ref === 'AWS::NoValue') return [];
  return [value];
}

function propertyTypeSpec(resourceType: string, typeName: string): SpecPropertyType | undefined {
  return spec.PropertyTypes[`${resourceType}.${typeName}`] ?? spec.PropertyTypes[typeName];
}

/**
 * Checks an object's keys against a spec `Properties` table: every key exists, every required
 * property is present, and nested property types (structures, lists and maps of them) recursively.
 */
function checkObject(
  resourceType: string,
  properties: Record<string, SpecProperty>,
  value: TemplateValue,
  where: string,
  problems: string[],
): void {
  for (const alternative of alternatives(value)) {
    if (isIntrinsic(alternative)) continue;
    if (!isTemplateObject(alternative)) {
      problems.push(`${where}: expected an object, got ${JSON.stringify(alternative)}`);
      continue;
    }
    for (const [name, property] of Object.entries(properties)) {
      if (property.Required === true && alternative[name] === undefined) {
        problems.push(`${where}: required property ${name} is missing`);
      }
    }
    for (const [name, item] of Object.entries(alternative)) {
      const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
      if (property === undefined) {
        problems.push(`${where}: ${name} is not a property of ${resourceType} in the specification`);
        continue;
      }
      checkPropertyValue(resourceType, property, item, `${where}/${name}`, problems);
    }
  }
}

function checkPropertyValue(
  resourceType: string,
  property: SpecProperty,
  value: TemplateValue,
  where: string,
  problems: string[],
): void {
  if (property.PrimitiveType !== undefined) return; // a scalar or Json: nothing below to name-check
  const nested = (typeName: string, item: TemplateValue, itemWhere: string): void => {
    const definition = propertyTypeSpec(resourceType, typeName);
    if (definition === undefined) {
      problems.push(`${itemWhere}: the specification has no property type ${typeName}`);
      return;
    }
    if (definition.Properties !== undefined)
      checkObject(resourceType, definition.Properties, item, itemWhere, problems);
  };
  for (const alternative of alternatives(value)) {
    if (isIntrinsic(alternative)) continue;
    if (property.Type === 'List' || property.Type === 'Map') {
      if (property.ItemType === undefined) continue; // a list or map of primitives
      const items =
        property.Type === 'List'
          ? Array.isArray(alternative)
            ? alternative.map((item, index): [string, TemplateValue] => [String(index), item])
            : undefined
          : isTemplateObject(alternative)
            ? Object.entries(alternative)
            : undefined;
      if (items === undefined) {
        problems.push(`${where}: expected a ${property.Type === 'List' ? 'list' : 'map'}`);
        continue;
      }
      for (const [key, item] of items) {
        for (const itemAlternative of alternatives(item))
          nested(property.ItemType, itemAlternative, `${where}/${key}`);
      }
    } else if (property.Type !== undefined) {
      nested(property.Type, alternative, where);
    }
  }
}

/** Every problem the specification finds in a template's resources (empty when none). */
function specificationProblems(template: Template): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const definition = spec.ResourceTypes[resource.Type];
    if (definition === undefined) {
      problems.push(`/Resources/${logicalId}: unknown type ${resource.Type}`);
      continue;
    }
    checkObject(
      resource.Type,
      definition.Properties ?? {},
      resource.Properties,
      `/Resources/${logicalId}/Properties`,
      problems,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Resolving a template with its defaults (stand-in physical IDs and attributes).

const pseudo: PseudoParameters = {
  stackName: 'lake',
  stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/lake/0f1e2d3c',
  region: 'us-east-1',
  accountId: '123456789012',
};

interface ResolvedTemplate {
  template: Template;
  parameters: Readonly<Record<string, string | string[]>>;
  /** Resolved Properties of each resource that exists under the default parameters. */
  resources: Record<string, { type: string; properties: TemplateObject }>;
  outputs: ResolvedOutput[];
}

function physicalId(template: Template, logicalId: string): string {
  return template.Resources[logicalId]?.Type === 'AWS::S3::Bucket'
    ? `bucket-${logicalId.toLowerCase()}`
    : `${pseudo.stackName}-${logicalId}-ABCDEF123456`;
}

function attribute(template: Template, logicalId: string, name: string): string {
  const type = template.Resources[logicalId]?.Type ?? '';
  if (type === 'AWS::S3::Bucket' && name === 'Arn') return `arn:aws:s3:::${physicalId(template, logicalId)}`;
  if (type === 'AWS::IAM::Role' && name === 'Arn')
    return `arn:aws:iam::${pseudo.accountId}:role/${physicalId(template, logicalId)}`;
  if (name === 'Arn' || name.endsWith('Arn')) {
    const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
    return `arn:aws:${service}:${pseudo.region}:${pseudo.accountId}:${logicalId}`;
  }
  return `${logicalId}.${name}`;
}

function resolveWithDefaults(
  template: Template,
  given: Readonly<Record<string, string>> = {},
): ResolvedTemplate {
  const { values } = resolveParameters(template, given);
  const conditions = evaluateConditions(template, { parameters: values, pseudo });
  const ctx: ResolveContext = {
    parameters: values,
    pseudo,
    mappings: template.Mappings,
    conditions,
    ref: (logicalId) => physicalId(template, logicalId),
    getAtt: (logicalId, name) => attribute(template, logicalId, name),
    importValue: (exportName) => `imported:${exportName}`,
  };
  const resources: ResolvedTemplate['resources'] = {};
  for (const logicalId of includedResources(template, conditions)) {
    resources[logicalId] = {
      type: template.Resources[logicalId]!.Type,
      properties: resolveResourceProperties(template, logicalId, ctx),
    };
  }
  return { template, parameters: values, resources, outputs: resolveOutputs(template, ctx) };
}

// ---------------------------------------------------------------------------------------------
// IAM policy documents found anywhere in resolved properties.

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: TemplateValue;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface FoundPolicy {
  /** `/Resources/<id>/Properties/…` */
  where: string;
  resourceType: string;
  statements: Statement[];
}

function findPolicies(resolved: ResolvedTemplate): FoundPolicy[] {
  const found: FoundPolicy[] = [];
  const walk = (value: TemplateValue, where: string, resourceType: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${where}/${index}`, resourceType));
      return;
    }
    if (!isTemplateObject(value)) return;
    if (value.Statement !== undefined) {
      const statements = Array.isArray(value.Statement) ? value.Statement : [value.Statement];
      found.push({ where, resourceType, statements: statements as unknown as Statement[] });
      return;
    }
    for (const [key, item] of Object.entries(value)) walk(item, `${where}/${key}`, resourceType);
  };
  for (const [logicalId, { type, properties }] of Object.entries(resolved.resources)) {
    walk(properties, `/Resources/${logicalId}/Properties`, type);
  }
  return found;
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Actions AWS does not authorise per resource, so an Allow for them must name Resource '*'
 * (the Service Authorization Reference lists no resource types for them).
 */
const NO_RESOURCE_LEVEL_ACTIONS: readonly string[] = [
  // Step Functions execution logging (CloudWatch Logs vended log deliveries).
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // Glue job metrics (limited by a cloudwatch:namespace condition).
  'cloudwatch:PutMetricData',
  // Step Functions X-Ray tracing.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];

/** Least-privilege problems in one policy document (empty when none). */
function leastPrivilegeProblems(policy: FoundPolicy): string[] {
  const problems: string[] = [];
  const sids = new Set<string>();
  policy.statements.forEach((statement, index) => {
    const at = `${policy.where}/Statement/${statement.Sid ?? index}`;
    if (statement.Sid !== undefined) {
      if (sids.has(statement.Sid)) problems.push(`${at}: Sid ${statement.Sid} is used twice in one policy`);
      sids.add(statement.Sid);
    }
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
      problems.push(`${at}: Effect must be Allow or Deny`);
      return;
    }
    // A Deny narrows access whatever it names (the HTTPS-only `s3:*` deny is the standard form);
    // least privilege is about what is allowed.
    if (statement.Effect === 'Deny') return;
    if (statement.NotAction !== undefined)
      problems.push(`${at}: Allow with NotAction grants everything else`);
    if (statement.NotResource !== undefined)
      problems.push(`${at}: Allow with NotResource grants everything else`);
    if (
      statement.Principal === '*' ||
      (isTemplateObject(statement.Principal) && statement.Principal.AWS === '*')
    )
      problems.push(`${at}: Allow to Principal '*' makes the resource public`);
    const actions = list(statement.Action);
    for (const action of actions) {
      if (action === '*' || /^[a-z0-9-]+:\*$/i.test(action))
        problems.push(`${at}: wildcard action ${action}`);
    }
    const resources = list(statement.Resource);
    if (resources.includes('*')) {
      const notAllowed = actions.filter((action) => !NO_RESOURCE_LEVEL_ACTIONS.includes(action));
      if (notAllowed.length > 0)
        problems.push(
          `${at}: Resource '*' for actions that support resource-level permissions: ${notAllowed.join(', ')}`,
        );
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------

const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const templateFiles = readdirSync(TEMPLATES_DIR)
  .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
  .sort();

describe('CloudFormation resource specification', () => {
  it('is the published v117 specification with S3, IAM, Glue, Personalize and Step Functions types', () => {
    assert.match(spec.ResourceSpecificationVersion, /^117\./);
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::S3::BucketPolicy',
      'AWS::IAM::Role',
      'AWS::Glue::Job',
      'AWS::Personalize::DatasetGroup',
      'AWS::StepFunctions::StateMachine',
      'AWS::Events::Rule',
    ]) {
      assert.ok(registry.has(type), type);
    }
  });

  it('the checker catches unknown, misspelt and missing properties at every level', () => {
    const template = loadTemplate(
      `Resources:
  B:
    Type: AWS::S3::Bucket
    Properties:
      BucketNam: x
      PublicAccessBlockConfiguration: {BlockPublicAcl: true}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {KMSMasterKeyID: k}
  P:
    Type: AWS::S3::BucketPolicy
    Properties: {Bucket: !Ref B}
`,
      { registry },
    );
    assert.deepEqual(specificationProblems(template), [
      '/Resources/B/Properties: BucketNam is not a property of AWS::S3::Bucket in the specification',
      '/Resources/B/Properties/PublicAccessBlockConfiguration: BlockPublicAcl is not a property of AWS::S3::Bucket in the specification',
      '/Resources/B/Properties/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault: required property SSEAlgorithm is missing',
      '/Resources/P/Properties: required property PolicyDocument is missing',
    ]);
  });

  it('the least-privilege check flags wildcard actions and resources', () => {
    const problems = leastPrivilegeProblems({
      where: '/p',
      resourceType: 'AWS::IAM::Role',
      statements: [
        { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
        { Effect: 'Allow', Action: ['logs:CreateLogDelivery', 'glue:StartJobRun'], Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' },
      ],
    });
    assert.deepEqual(problems, [
      '/p/Statement/0: wildcard action s3:*',
      "/p/Statement/1: Resource '*' for actions that support resource-level permissions: glue:StartJobRun",
    ]);
  });
});

describe('templates/*.yaml', () => {
  it('there is at least the data-lake template', () => {
    assert.ok(templateFiles.includes('datalake.yaml'), `templates found: ${templateFiles.join(', ')}`);
  });

  for (const file of templateFiles) {
    describe(file, () => {
      const body = readFileSync(path.join(TEMPLATES_DIR, file), 'utf8');

      it('parses and validates with the engine and a registry of every specification type', () => {
        // Validation checks every resource type, GetAtt attribute, Ref, Sub variable and DependsOn.
        const template = loadTemplate(body, { registry });
        assert.ok(Object.keys(template.Resources).length > 0);
        assert.equal(template.AWSTemplateFormatVersion, '2010-09-09');
        assert.ok(template.Description !== undefined && template.Description.length > 0, 'has a Description');
      });

      it('uses only properties the specification defines, with every required property', () => {
        const template = loadTemplate(body, { registry });
        assert.deepEqual(specificationProblems(template), []);
      });

      it('resolves completely with its parameter defaults', () => {
        const template = loadTemplate(body, { registry });
        const withoutDefault = Object.entries(template.Parameters)
          .filter(([, declaration]) => declaration.Default === undefined)
          .map(([name]) => name);
        assert.deepEqual(withoutDefault, [], 'every parameter has a Default');
        const resolved = resolveWithDefaults(template);
        assert.ok(Object.keys(resolved.resources).length > 0, 'some resources exist under the defaults');
        for (const output of resolved.outputs) assert.ok(output.OutputValue.length > 0, output.OutputKey);
      });

      it('follows least privilege in every policy', () => {
        const resolved = resolveWithDefaults(loadTemplate(body, { registry }));
        const problems = findPolicies(resolved).flatMap(leastPrivilegeProblems);
        assert.deepEqual(problems, []);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('templates/datalake.yaml', () => {
  const body = readFileSync(path.join(TEMPLATES_DIR, 'datalake.yaml'), 'utf8');
  const template = loadTemplate(body, { registry });
  const resolved = resolveWithDefaults(template);
  const ofType = (type: string): Array<[string, TemplateObject]> =>
    Object.entries(resolved.resources)
      .filter(([, resource]) => resource.type === type)
      .map(([logicalId, resource]) => [logicalId, resource.properties]);
  const [bucketId, bucket] = ofType('AWS::S3::Bucket')[0] ?? assert.fail('no bucket');
  const bucketArn = attribute(template, bucketId, 'Arn');
  const objects = (prefix: string): string => `${bucketArn}/${prefix}*`;
  const policies = findPolicies(resolved);
  const roles = ofType('AWS::IAM::Role');
  const roleAssumedBy = (service: string): [string, TemplateObject] => {
    const found = roles.filter(([, properties]) =>
      JSON.stringify(properties.AssumeRolePolicyDocument).includes(`"${service}"`),
    );
    assert.equal(found.length, 1, `one role assumed by ${service}`);
    return found[0]!;
  };
  const statementsOf = (logicalId: string): Statement[] =>
    policies
      .filter((policy) => policy.where.startsWith(`/Resources/${logicalId}/Properties/Policies/`))
      .flatMap((policy) => policy.statements);
  const allowed = (statements: Statement[], action: string): Statement[] =>
    statements.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action));
  const resourcesFor = (statements: Statement[], action: string): string[] =>
    allowed(statements, action)
      .flatMap((s) => list(s.Resource))
      .sort();

  it('aborts multipart uploads left incomplete a day after they began', () => {
    assert.deepEqual(bucket.LifecycleConfiguration, {
      Rules: [
        {
          Id: 'AbortIncompleteMultipartUploads',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
  });

  it('declares the project, bucket and prefix parameters with the config defaults', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlpipe-templates-'));
    try {
      const defaults = resolveSettings({}, { cwd: dir, env: {} });
      assert.deepEqual(resolved.parameters, {
        ProjectName: defaults.project.value,
        BucketName: defaults.bucket.value,
        RawPrefix: defaults.prefixes.raw.value,
        TransformedPrefix: defaults.prefixes.transformed.value,
        ItemsPrefix: defaults.prefixes.items.value,
        BatchInputPrefix: defaults.prefixes.batchInput.value,
        RecommendationsPrefix: defaults.prefixes.recommendations.value,
        GlueScriptsPrefix: 'glue_scripts/',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts exactly the project names and bucket names the config accepts', () => {
    for (const name of ['movies', 'a', 'ml-pipe-2', 'x'.repeat(41), 'Movies', '-x', 'x'.repeat(42), 'a_b']) {
      const configOk = ConfigFileSchema().safeParse({ project: name }).success;
      const templateOk = (() => {
        try {
          resolveParameters(template, { ProjectName: name, BucketName: `${name.toLowerCase()}-lake` });
          return true;
        } catch {
          return false;
        }
      })();
      assert.equal(templateOk, configOk, `project name ${JSON.stringify(name)}`);
    }
    for (const name of ['movies-datalake', 'a.b-c', 'ab', 'Movies', 'x'.repeat(64)]) {
      const configOk = ConfigFileSchema().safeParse({ bucket: name }).success;
      const templateOk = (() => {
        try {
          resolveParameters(template, { BucketName: name });
          return true;
        } catch {
          return false;
        }
      })();
      assert.equal(templateOk, configOk, `bucket name ${JSON.stringify(name)}`);
    }
    assert.throws(() => resolveParameters(template, { RawPrefix: '/raw/' }), /RawPrefix/);
    assert.throws(() => resolveParameters(template, { RawPrefix: 'raw' }), /RawPrefix/);
    assert.throws(() => resolveParameters(template, { RawPrefix: 'raw*/' }), /RawPrefix/);
  });

  it('has one private, SSE-S3 encrypted bucket named by BucketName and kept on delete and replace', () => {
    assert.equal(ofType('AWS::S3::Bucket').length, 1);
    assert.equal(bucket.BucketName, 'mlpipe-datalake');
    assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(bucket.BucketEncryption, {
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    assert.equal(template.Resources[bucketId]!.DeletionPolicy, 'Retain');
    assert.equal(template.Resources[bucketId]!.UpdateReplacePolicy, 'Retain');
  });

  describe('bucket policy', () => {
    const bucketPolicies = ofType('AWS::S3::BucketPolicy');
    const policy = bucketPolicies[0]?.[1] ?? assert.fail('no bucket policy');
    const statements = (policy.PolicyDocument as unknown as { Statement: Statement[] }).Statement;
    const personalize = statements.filter(
      (s) =>
        s.Effect === 'Allow' && JSON.stringify(s.Principal) === '{"Service":"personalize.amazonaws.com"}',
    );

    it('is attached to the lake bucket', () => {
      assert.equal(bucketPolicies.length, 1);
      assert.equal(policy.Bucket, physicalId(template, bucketId));
    });

    it('denies every request over plain HTTP, on the bucket and its objects', () => {
      const deny = statements.find(
        (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );
      assert.ok(deny, 'an HTTPS-only Deny');
      assert.equal(deny.Principal, '*');
      assert.deepEqual(list(deny.Action), ['s3:*']);
      assert.deepEqual(list(deny.Resource).sort(), [bucketArn, `${bucketArn}/*`]);
    });

    it('lets Personalize (of this account only) read transformed/ and batch input and write recommendations/', () => {
      assert.ok(personalize.length > 0);
      for (const statement of personalize) {
        assert.deepEqual(statement.Condition?.StringEquals?.['aws:SourceAccount'], pseudo.accountId);
      }
      assert.deepEqual([...new Set(personalize.flatMap((s) => list(s.Action)))].sort(), [
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ]);
      assert.deepEqual(resourcesFor(personalize, 's3:GetObject'), [
        objects('batch_users_input/'),
        objects('items/'),
        objects('transformed/'),
      ]);
      assert.deepEqual(resourcesFor(personalize, 's3:PutObject'), [objects('recommendations/')]);
      const listing = allowed(personalize, 's3:ListBucket');
      assert.deepEqual(
        listing.flatMap((s) => list(s.Resource)),
        [bucketArn],
      );
      for (const statement of listing) {
        assert.deepEqual(list(statement.Condition?.StringLike?.['s3:prefix']).sort(), [
          'batch_users_input/*',
          'items/*',
          'recommendations/*',
          'transformed/*',
        ]);
      }
    });

    it('allows nobody else', () => {
      const others = statements.filter((s) => s.Effect === 'Allow' && !personalize.includes(s));
      assert.deepEqual(others, []);
    });
  });

  describe('IAM roles', () => {
    it('are the four pipeline roles, with generated names (CAPABILITY_IAM is enough)', () => {
      assert.equal(roles.length, 4);
      for (const [logicalId, properties] of roles) assert.equal(properties.RoleName, undefined, logicalId);
      assert.deepEqual(requiredCapabilities(template), ['CAPABILITY_IAM']);
      for (const [, properties] of roles) {
        const trust = (properties.AssumeRolePolicyDocument as unknown as { Statement: Statement[] })
          .Statement;
        for (const statement of trust) {
          assert.equal(statement.Effect, 'Allow');
          assert.deepEqual(list(statement.Action), ['sts:AssumeRole']);
          assert.ok(
            isTemplateObject(statement.Principal) && Object.keys(statement.Principal).join() === 'Service',
            'trusted by AWS services only',
          );
        }
      }
    });

    it('never allow s3 object access to the whole bucket, and list only with a prefix condition', () => {
      for (const [logicalId] of roles) {
        for (const statement of statementsOf(logicalId)) {
          if (statement.Effect !== 'Allow') continue;
          for (const resource of list(statement.Resource)) {
            assert.notEqual(resource, `${bucketArn}/*`, `${logicalId}: ${resource}`);
          }
          if (list(statement.Action).includes('s3:ListBucket')) {
            assert.ok(
              list(statement.Condition?.StringLike?.['s3:prefix']).length > 0,
              `${logicalId}: s3:ListBucket without an s3:prefix condition`,
            );
          }
        }
      }
    });

    it('Glue: reads raw/ and glue_scripts/, writes transformed/, its run reports and the batch users list, logs to /aws-glue/*', () => {
      const [glueId] = roleAssumedBy('glue.amazonaws.com');
      const statements = statementsOf(glueId);
      assert.deepEqual(resourcesFor(statements, 's3:GetObject'), [
        objects('glue_scripts/'),
        objects('raw/'),
        objects('transformed/'),
        objects('transformed_etl/'),
      ]);
      const written = [objects('transformed/'), objects('transformed_etl/')];
      // Plus exactly one object outside them: the batch inference users list the job writes.
      assert.deepEqual(resourcesFor(statements, 's3:PutObject'), [
        `${bucketArn}/batch_users_input/users.jsonl`,
        ...written,
      ]);
      assert.deepEqual(resourcesFor(statements, 's3:DeleteObject'), written);
      const listing = allowed(statements, 's3:ListBucket');
      assert.deepEqual(list(listing[0]?.Condition?.StringLike?.['s3:prefix']).sort(), [
        'glue_scripts/*',
        'raw/*',
        'transformed/*',
        'transformed_etl/*',
      ]);
      for (const resource of resourcesFor(statements, 'logs:PutLogEvents')) {
        assert.match(resource, /^arn:aws:logs:us-east-1:123456789012:log-group:\/aws-glue\/\*/);
      }
      for (const statement of allowed(statements, 'cloudwatch:PutMetricData')) {
        assert.equal(statement.Condition?.StringEquals?.['cloudwatch:namespace'], 'Glue');
      }
    });

    it('Personalize: the same S3 access as the bucket policy grants it', () => {
      const [personalizeId] = roleAssumedBy('personalize.amazonaws.com');
      const statements = statementsOf(personalizeId);
      assert.deepEqual([...new Set(statements.flatMap((s) => list(s.Action)))].sort(), [
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ]);
      assert.deepEqual(resourcesFor(statements, 's3:GetObject'), [
        objects('batch_users_input/'),
        objects('items/'),
        objects('transformed/'),
      ]);
      assert.deepEqual(resourcesFor(statements, 's3:PutObject'), [objects('recommendations/')]);
    });

    it('Personalize: reads exactly the batch input prefix and writes exactly the output prefix the stack is given', () => {
      const custom = resolveWithDefaults(template, {
        BatchInputPrefix: 'jobs/users_in/',
        RecommendationsPrefix: 'jobs/recs_out/',
      });
      const [personalizeId] = roleAssumedBy('personalize.amazonaws.com');
      const statements = findPolicies(custom)
        .filter((policy) => policy.where.startsWith(`/Resources/${personalizeId}/Properties/Policies/`))
        .flatMap((policy) => policy.statements);
      // Batch input: read, never written; output: written, never read (nor the output read as input).
      assert.deepEqual(resourcesFor(statements, 's3:GetObject'), [
        objects('items/'),
        objects('jobs/users_in/'),
        objects('transformed/'),
      ]);
      assert.deepEqual(resourcesFor(statements, 's3:PutObject'), [objects('jobs/recs_out/')]);
      const listing = allowed(statements, 's3:ListBucket');
      assert.deepEqual(list(listing[0]?.Condition?.StringLike?.['s3:prefix']).sort(), [
        'items/*',
        'jobs/recs_out/*',
        'jobs/users_in/*',
        'transformed/*',
      ]);
      const bucketPolicy = findPolicies(custom).filter((p) => p.resourceType === 'AWS::S3::BucketPolicy');
      const forPersonalize = bucketPolicy
        .flatMap((p) => p.statements)
        .filter((st) => JSON.stringify(st.Principal ?? '').includes('personalize.amazonaws.com'));
      assert.deepEqual(resourcesFor(forPersonalize, 's3:PutObject'), [objects('jobs/recs_out/')]);
      assert.ok(resourcesFor(forPersonalize, 's3:GetObject').includes(objects('jobs/users_in/')));
      assert.ok(!resourcesFor(forPersonalize, 's3:GetObject').includes(objects('jobs/recs_out/')));
    });

    it("Step Functions: this project's Glue job and Personalize resources, PassRole to Personalize only", () => {
      const [stepFunctionsId] = roleAssumedBy('states.amazonaws.com');
      const [personalizeId] = roleAssumedBy('personalize.amazonaws.com');
      const statements = statementsOf(stepFunctionsId);
      for (const action of [
        'glue:StartJobRun',
        'glue:GetJobRun',
        'glue:GetJobRuns',
        'glue:BatchStopJobRun',
      ]) {
        assert.deepEqual(resourcesFor(statements, action), [
          'arn:aws:glue:us-east-1:123456789012:job/mlpipe-*',
        ]);
      }
      for (const action of [
        'personalize:CreateDatasetImportJob',
        'personalize:DescribeDatasetImportJob',
        'personalize:CreateSolutionVersion',
        'personalize:DescribeSolutionVersion',
        'personalize:CreateBatchInferenceJob',
        'personalize:DescribeBatchInferenceJob',
      ]) {
        assert.deepEqual(resourcesFor(statements, action), [
          'arn:aws:personalize:us-east-1:123456789012:*/mlpipe*',
        ]);
      }
      const passRole = allowed(statements, 'iam:PassRole');
      assert.equal(passRole.length, 1);
      assert.deepEqual(list(passRole[0]!.Resource), [attribute(template, personalizeId, 'Arn')]);
      assert.equal(
        passRole[0]!.Condition?.StringEquals?.['iam:PassedToService'],
        'personalize.amazonaws.com',
      );
      assert.deepEqual(resourcesFor(statements, 'logs:CreateLogDelivery'), ['*']);
    });

    it("EventBridge: starts only this project's state machines", () => {
      const [eventsId] = roleAssumedBy('events.amazonaws.com');
      const statements = statementsOf(eventsId);
      assert.deepEqual([...new Set(statements.flatMap((s) => list(s.Action)))], ['states:StartExecution']);
      assert.deepEqual(resourcesFor(statements, 'states:StartExecution'), [
        'arn:aws:states:us-east-1:123456789012:stateMachine:mlpipe-*',
      ]);
    });

    it('allow no wildcard actions at all, and Resource * only for the listed actions', () => {
      for (const policy of policies) {
        for (const statement of policy.statements) {
          if (statement.Effect !== 'Allow') continue;
          for (const action of list(statement.Action)) assert.doesNotMatch(action, /\*/, policy.where);
          if (list(statement.Resource).includes('*')) {
            for (const action of list(statement.Action))
              assert.ok(NO_RESOURCE_LEVEL_ACTIONS.includes(action));
          }
        }
      }
    });
  });

  it('exports the bucket, the four role ARNs and every prefix', () => {
    const outputs = Object.fromEntries(resolved.outputs.map((o) => [o.OutputKey, o]));
    const [glueId] = roleAssumedBy('glue.amazonaws.com');
    const [personalizeId] = roleAssumedBy('personalize.amazonaws.com');
    const [stepFunctionsId] = roleAssumedBy('states.amazonaws.com');
    const [eventsId] = roleAssumedBy('events.amazonaws.com');
    const expected: Record<string, string> = {
      BucketName: physicalId(template, bucketId),
      BucketArn: bucketArn,
      GlueRoleArn: attribute(template, glueId, 'Arn'),
      PersonalizeRoleArn: attribute(template, personalizeId, 'Arn'),
      StepFunctionsRoleArn: attribute(template, stepFunctionsId, 'Arn'),
      EventsRoleArn: attribute(template, eventsId, 'Arn'),
      RawPrefix: 'raw/',
      TransformedPrefix: 'transformed/',
      ItemsPrefix: 'items/',
      BatchInputPrefix: 'batch_users_input/',
      RecommendationsPrefix: 'recommendations/',
      GlueScriptsPrefix: 'glue_scripts/',
    };
    assert.deepEqual(
      Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.OutputValue])),
      expected,
    );
    for (const [key, output] of Object.entries(outputs)) assert.equal(output.ExportName, `lake-${key}`);
  });
});

describe('templates/personalize.yaml campaign', () => {
  const template = loadTemplate(readFileSync(path.join(TEMPLATES_DIR, 'personalize.yaml'), 'utf8'), {
    registry,
  });
  const version = 'arn:aws:personalize:us-east-1:123456789012:solution/mlpipe-solution/0123abcd';

  it('is off by default (a campaign is billed every hour on AWS), and says so where it is switched on', () => {
    const resolved = resolveWithDefaults(template);
    assert.deepEqual(
      Object.values(resolved.resources).filter((r) => r.type === 'AWS::Personalize::Campaign'),
      [],
    );
    assert.ok(!resolved.outputs.some((o) => o.OutputKey === 'CampaignArn'));
    const body = readFileSync(path.join(TEMPLATES_DIR, 'personalize.yaml'), 'utf8');
    assert.match(body, /BILLED EVERY HOUR on AWS/);
    assert.match(body, /a campaign is billed for every hour it exists/);
  });

  it('serves the given solution version with the given minProvisionedTPS when switched on', () => {
    const resolved = resolveWithDefaults(template, {
      CampaignSolutionVersionArn: version,
      CampaignMinProvisionedTPS: '2',
    });
    const campaigns = Object.values(resolved.resources).filter(
      (r) => r.type === 'AWS::Personalize::Campaign',
    );
    assert.equal(campaigns.length, 1);
    assert.deepEqual(campaigns[0]!.properties, {
      Name: 'mlpipe-campaign',
      SolutionVersionArn: version,
      // A Number parameter arrives as a string, as CloudFormation passes it.
      MinProvisionedTPS: '2',
    });
    assert.ok(resolved.outputs.some((o) => o.OutputKey === 'CampaignArn'));
    assert.throws(() => resolveParameters(template, { CampaignSolutionVersionArn: 'not-an-arn' }));
  });
});

// ---------------------------------------------------------------------------------------------

describe('templates/pipeline.yaml', () => {
  const template = loadTemplate(readFileSync(path.join(TEMPLATES_DIR, 'pipeline.yaml'), 'utf8'), {
    registry,
  });
  const resolved = resolveWithDefaults(template);
  const machine = resolved.resources.Pipeline!.properties;
  const substitutions = machine.DefinitionSubstitutions as Record<string, string | number>;
  // What CloudFormation does: the definition as JSON text, each ${name} replaced by its value.
  const definitionText = JSON.stringify(machine.Definition).replace(/\$\{(\w+)\}/g, (whole, name: string) =>
    substitutions[name] === undefined ? whole : String(substitutions[name]),
  );
  const definition = JSON.parse(definitionText) as {
    StartAt: string;
    States: Record<string, Record<string, unknown>>;
  };
  const states = Object.entries(definition.States);

  it('every substitution the definition uses is defined, and nothing is left unsubstituted', () => {
    assert.doesNotMatch(definitionText, /\$\{\w+\}/);
  });

  it('passes asl-validator', () => {
    const { isValid, errors } = aslValidator(definition);
    assert.deepEqual(errors, []);
    assert.ok(isValid);
  });

  it('names every job after the execution (the run id), so a second run never collides', () => {
    const named = states.filter(([, state]) => {
      const parameters = state.Parameters as Record<string, unknown> | undefined;
      return parameters?.['JobName.$'] !== undefined;
    });
    assert.deepEqual(
      named.map(([name]) => name),
      ['StartImport', 'StartBatch'],
    );
    for (const [, state] of named)
      assert.equal((state.Parameters as Record<string, unknown>)['JobName.$'], '$.jobName');
    const settings = definition.States.Settings!.Parameters as Record<string, unknown>;
    assert.equal(settings['runId.$'], '$$.Execution.Name');
    // The job name is the project's and the run key: the run's name, or a UUID's first and last parts.
    assert.equal(settings['jobName.$'], "States.Format('mlpipe-{}', $.runKey.key)");
    assert.equal(
      (definition.States.NameRunKey!.Parameters as Record<string, unknown>)['key.$'],
      '$$.Execution.Name',
    );
    assert.equal(
      (definition.States.UuidRunKey!.Parameters as Record<string, unknown>)['key.$'],
      "States.Format('{}-{}', $.runName.parts[0], $.runName.parts[4])",
    );
    const batch = definition.States.StartBatch!.Parameters as {
      JobOutput: { S3DataDestination: Record<string, string> };
    };
    assert.equal(
      batch.JobOutput.S3DataDestination['Path.$'],
      "States.Format('s3://imported:mlpipe-datalake-BucketName/imported:mlpipe-datalake-RecommendationsPrefix{}/', $.runId)",
    );
  });

  it('polls each job with Describe + Choice + Wait, and ends CREATE FAILED in a Fail state carrying failureReason', () => {
    for (const [describe, choice, fail, field] of [
      ['DescribeImport', 'ImportDone', 'ImportFailed', 'Job'],
      ['DescribeTraining', 'TrainingDone', 'TrainingFailed', 'Version'],
      ['DescribeBatch', 'BatchDone', 'BatchFailed', 'Job'],
    ] as const) {
      const choices = definition.States[choice]!.Choices as { StringEquals: string; Next: string }[];
      assert.deepEqual(
        choices.map((c) => [c.StringEquals, c.Next]),
        [
          ['ACTIVE', choices[0]!.Next],
          ['CREATE FAILED', fail],
        ],
      );
      const wait = definition.States[choice]!.Default as string;
      assert.equal(definition.States[wait]!.Type, 'Wait');
      assert.equal(definition.States[wait]!.Next, describe);
      assert.equal(definition.States[fail]!.Type, 'Fail');
      assert.match(definition.States[fail]!.CausePath as string, new RegExp(`\\.${field}\\.FailureReason$`));
    }
  });

  it('retries ResourceInUse and LimitExceeded with backoff on every Personalize job it starts', () => {
    for (const name of ['StartImport', 'StartTraining', 'StartBatch']) {
      const retry = definition.States[name]!.Retry as { ErrorEquals: string[]; BackoffRate: number }[];
      assert.deepEqual(retry[0]!.ErrorEquals, [
        'Personalize.ResourceInUseException',
        'Personalize.LimitExceededException',
      ]);
      assert.ok(retry[0]!.BackoffRate > 1);
    }
  });

  it('calls only what the data-lake stack lets the Step Functions role do', () => {
    const datalake = resolveWithDefaults(
      loadTemplate(readFileSync(path.join(TEMPLATES_DIR, 'datalake.yaml'), 'utf8'), { registry }),
    );
    const role = Object.entries(datalake.resources).find(([, r]) =>
      JSON.stringify(r.properties.AssumeRolePolicyDocument ?? '').includes('states.amazonaws.com'),
    )!;
    const granted = new Set(
      findPolicies({ ...datalake, resources: { [role[0]]: role[1] } })
        .flatMap((p) => p.statements)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => list(s.Action)),
    );
    const used = states
      .map(([, state]) => state.Resource as string | undefined)
      .filter((resource): resource is string => resource !== undefined)
      .map((resource) => {
        const sdk = /^arn:aws:states:::aws-sdk:(\w+):(\w)(\w*)$/.exec(resource);
        if (sdk) return `${sdk[1]}:${sdk[2]!.toUpperCase()}${sdk[3]}`;
        assert.equal(resource, 'arn:aws:states:::glue:startJobRun.sync');
        return 'glue:StartJobRun';
      });
    assert.deepEqual(
      [...new Set(used)].filter((action) => !granted.has(action)),
      [],
    );
    for (const action of ['glue:GetJobRun', 'glue:BatchStopJobRun', 'iam:PassRole'])
      assert.ok(granted.has(action), action);
  });

  it('the schedule starts the state machine with the EventBridge role, and is off by default', () => {
    const rule = resolved.resources.Schedule!.properties;
    assert.equal(rule.State, 'DISABLED');
    assert.equal(rule.ScheduleExpression, 'rate(1 day)');
    const [target] = rule.Targets as TemplateObject[];
    assert.equal(target!.Arn, physicalId(template, 'Pipeline'));
    assert.equal(target!.RoleArn, 'imported:mlpipe-datalake-EventsRoleArn');
  });
});
