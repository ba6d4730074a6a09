/**
 * CloudFormation's AWS operations (Query, 2010-05-15): turns each action's decoded form parameters
 * (the Query input tree) into the typed input of `CloudFormationService` (member names as in
 * botocore's model) and returns the output object the Query codec serializes. No logic lives here
 * beyond wire types.
 */
import { AwsError } from '../../core/errors.js';
import {
  queryBoolean,
  queryInteger,
  queryObject,
  queryObjectList,
  queryString,
  queryStringList,
  type QueryObject,
} from '../../core/query-input.js';
import type { CloudFormationService, ParameterInput } from './cloudformation-service.js';
import type { ResourceToImportInput } from './resource-import.js';
import type { Tag } from './types.js';

export const CLOUDFORMATION_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

type QueryHandler = (input: QueryObject) => Promise<unknown>;

/** Drops undefined members so the service sees only what the caller sent. */
function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function parameters(input: QueryObject): ParameterInput[] | undefined {
  return queryObjectList(input, 'Parameters')?.map((item) =>
    defined({
      ParameterKey: queryString(item, 'ParameterKey'),
      ParameterValue: queryString(item, 'ParameterValue'),
      UsePreviousValue: queryBoolean(item, 'UsePreviousValue'),
    }),
  );
}

function tags(input: QueryObject): Tag[] | undefined {
  return queryObjectList(input, 'Tags')?.map((item) => ({
    Key: queryString(item, 'Key') ?? '',
    Value: queryString(item, 'Value') ?? '',
  }));
}

/** `ResourcesToImport.member.N.…`, each `ResourceIdentifier` a map (`.entry.N.key` / `.value`). */
function resourcesToImport(input: QueryObject): ResourceToImportInput[] | undefined {
  return queryObjectList(input, 'ResourcesToImport')?.map((item) => {
    const map = queryObject(item, 'ResourceIdentifier');
    let identifier: Record<string, string> | undefined;
    if (map !== undefined) {
      identifier = {};
      for (const key of Object.keys(map)) {
        const value = map[key];
        if (typeof value !== 'string')
          throw new AwsError(
            'ValidationError',
            `Invalid value for parameter ResourcesToImport.ResourceIdentifier.${key}: expected a string.`,
          );
        identifier[key] = value;
      }
    }
    return defined({
      ResourceType: queryString(item, 'ResourceType'),
      LogicalResourceId: queryString(item, 'LogicalResourceId'),
      ResourceIdentifier: identifier,
    });
  });
}

function templateSource(input: QueryObject): { TemplateBody?: string; TemplateURL?: string } {
  return defined({
    TemplateBody: queryString(input, 'TemplateBody'),
    TemplateURL: queryString(input, 'TemplateURL'),
  });
}

/** Action name → operation, for the services list. */
export function cloudFormationOperations(service: CloudFormationService): Record<string, QueryHandler> {
  const stackName = (input: QueryObject): { StackName?: string } =>
    defined({ StackName: queryString(input, 'StackName') });
  const nextToken = (input: QueryObject): { NextToken?: string } =>
    defined({ NextToken: queryString(input, 'NextToken') });
  const changeSetRef = (input: QueryObject): { ChangeSetName?: string; StackName?: string } =>
    defined({
      ChangeSetName: queryString(input, 'ChangeSetName'),
      StackName: queryString(input, 'StackName'),
    });

  return {
    CreateStack: (input) =>
      service.createStack(
        defined({
          ...stackName(input),
          ...templateSource(input),
          Parameters: parameters(input),
          DisableRollback: queryBoolean(input, 'DisableRollback'),
          TimeoutInMinutes: queryInteger(input, 'TimeoutInMinutes'),
          NotificationARNs: queryStringList(input, 'NotificationARNs'),
          Capabilities: queryStringList(input, 'Capabilities'),
          OnFailure: queryString(input, 'OnFailure'),
          Tags: tags(input),
          RoleARN: queryString(input, 'RoleARN'),
          EnableTerminationProtection: queryBoolean(input, 'EnableTerminationProtection'),
          ClientRequestToken: queryString(input, 'ClientRequestToken'),
        }),
      ),
    UpdateStack: (input) =>
      service.updateStack(
        defined({
          ...stackName(input),
          ...templateSource(input),
          UsePreviousTemplate: queryBoolean(input, 'UsePreviousTemplate'),
          Parameters: parameters(input),
          Capabilities: queryStringList(input, 'Capabilities'),
          NotificationARNs: queryStringList(input, 'NotificationARNs'),
          Tags: tags(input),
          DisableRollback: queryBoolean(input, 'DisableRollback'),
          RoleARN: queryString(input, 'RoleARN'),
          ClientRequestToken: queryString(input, 'ClientRequestToken'),
        }),
      ),
    DeleteStack: async (input) => {
      await service.deleteStack(
        defined({
          ...stackName(input),
          RetainResources: queryStringList(input, 'RetainResources'),
          ClientRequestToken: queryString(input, 'ClientRequestToken'),
        }),
      );
      return undefined;
    },
    DescribeStacks: (input) => service.describeStacks({ ...stackName(input), ...nextToken(input) }),
    ListStacks: (input) =>
      service.listStacks(
        defined({
          StackStatusFilter: queryStringList(input, 'StackStatusFilter'),
          NextToken: queryString(input, 'NextToken'),
        }),
      ),
    DescribeStackEvents: (input) => service.describeStackEvents({ ...stackName(input), ...nextToken(input) }),
    ListStackResources: (input) => service.listStackResources({ ...stackName(input), ...nextToken(input) }),
    DescribeStackResources: (input) =>
      service.describeStackResources(
        defined({
          ...stackName(input),
          LogicalResourceId: queryString(input, 'LogicalResourceId'),
          PhysicalResourceId: queryString(input, 'PhysicalResourceId'),
        }),
      ),
    DescribeStackResource: (input) =>
      service.describeStackResource(
        defined({ ...stackName(input), LogicalResourceId: queryString(input, 'LogicalResourceId') }),
      ),
    GetTemplate: (input) =>
      service.getTemplate(
        defined({
          ...stackName(input),
          ChangeSetName: queryString(input, 'ChangeSetName'),
          TemplateStage: queryString(input, 'TemplateStage'),
        }),
      ),
    GetTemplateSummary: (input) =>
      service.getTemplateSummary({ ...stackName(input), ...templateSource(input) }),
    ValidateTemplate: (input) => service.validateTemplate(templateSource(input)),
    CreateChangeSet: (input) =>
      service.createChangeSet(
        defined({
          ...stackName(input),
          ...templateSource(input),
          ChangeSetName: queryString(input, 'ChangeSetName'),
          ChangeSetType: queryString(input, 'ChangeSetType'),
          UsePreviousTemplate: queryBoolean(input, 'UsePreviousTemplate'),
          Parameters: parameters(input),
          Capabilities: queryStringList(input, 'Capabilities'),
          NotificationARNs: queryStringList(input, 'NotificationARNs'),
          Tags: tags(input),
          Description: queryString(input, 'Description'),
          RoleARN: queryString(input, 'RoleARN'),
          ClientToken: queryString(input, 'ClientToken'),
          ResourcesToImport: resourcesToImport(input),
        }),
      ),
    DescribeChangeSet: (input) => service.describeChangeSet({ ...changeSetRef(input), ...nextToken(input) }),
    ExecuteChangeSet: (input) =>
      service.executeChangeSet(
        defined({ ...changeSetRef(input), DisableRollback: queryBoolean(input, 'DisableRollback') }),
      ),
    DeleteChangeSet: (input) => service.deleteChangeSet(changeSetRef(input)),
    ListChangeSets: (input) => service.listChangeSets({ ...stackName(input), ...nextToken(input) }),
    ListExports: (input) => service.listExports(nextToken(input)),
    ListImports: (input) =>
      service.listImports(
        defined({ ExportName: queryString(input, 'ExportName'), NextToken: queryString(input, 'NextToken') }),
      ),
  };
}
