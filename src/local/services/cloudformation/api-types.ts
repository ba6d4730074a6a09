/**
 * CloudFormation's typed inputs (AWS member names, as the Query binding hands them over) and the
 * options a CloudFormation service is opened with.
 */
import type { Clock } from '../../core/clock.js';
import type { Invoke } from '../../core/service.js';
import type { S3Service } from '../s3/s3-service.js';
import { type ProvisionerRegistry } from './provisioners/index.js';
import type { ResourceToImportInput } from './resource-import.js';
import type { Tag } from './types.js';

// --- Inputs (AWS member names)

export interface ParameterInput {
  ParameterKey?: string;
  ParameterValue?: string;
  UsePreviousValue?: boolean;
}

export interface TemplateSource {
  TemplateBody?: string;
  TemplateURL?: string;
}

export interface CreateStackInput extends TemplateSource {
  StackName?: string;
  Parameters?: ParameterInput[];
  DisableRollback?: boolean;
  TimeoutInMinutes?: number;
  NotificationARNs?: string[];
  Capabilities?: string[];
  OnFailure?: string;
  Tags?: Tag[];
  RoleARN?: string;
  EnableTerminationProtection?: boolean;
  ClientRequestToken?: string;
}

export interface UpdateStackInput extends TemplateSource {
  StackName?: string;
  UsePreviousTemplate?: boolean;
  Parameters?: ParameterInput[];
  Capabilities?: string[];
  NotificationARNs?: string[];
  Tags?: Tag[];
  DisableRollback?: boolean;
  RoleARN?: string;
  ClientRequestToken?: string;
}

export interface DeleteStackInput {
  StackName?: string;
  RetainResources?: string[];
  ClientRequestToken?: string;
}

export interface CreateChangeSetInput extends TemplateSource {
  StackName?: string;
  ChangeSetName?: string;
  ChangeSetType?: string;
  UsePreviousTemplate?: boolean;
  Parameters?: ParameterInput[];
  Capabilities?: string[];
  NotificationARNs?: string[];
  Tags?: Tag[];
  Description?: string;
  RoleARN?: string;
  ClientToken?: string;
  /** IMPORT change sets: the existing resources to bring into the stack. */
  ResourcesToImport?: ResourceToImportInput[];
}

export interface ChangeSetRef {
  ChangeSetName?: string;
  StackName?: string;
}

export interface CloudFormationServiceOptions {
  s3: S3Service;
  /**
   * The other services' operations, in-process (the service registry's `invoke`), for resource
   * types other than S3 and IAM; a stack using such a type fails without it.
   */
  invoke?: Invoke;
  /** The stack's clock (provisioners poll on it); real time without one. */
  clock?: Clock;
  provisioners?: ProvisionerRegistry;
  /** How long a Describe waits for an in-flight operation on its stack (ms). */
  settleMs?: number;
}
