/**
 * The CloudFormation service's persisted records (stacks, their resources, events and change
 * sets) and the status vocabularies, spelled exactly as CloudFormation spells them. Records are
 * plain JSON (timestamps as ISO strings) so they round-trip through the state files unchanged.
 */
import type { ResolvedOutput, TemplateObject, TemplateValue } from './template/index.js';

export type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'REVIEW_IN_PROGRESS'
  | 'IMPORT_IN_PROGRESS'
  | 'IMPORT_COMPLETE'
  | 'IMPORT_ROLLBACK_IN_PROGRESS'
  | 'IMPORT_ROLLBACK_FAILED'
  | 'IMPORT_ROLLBACK_COMPLETE';

export type ResourceStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_SKIPPED'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_FAILED'
  | 'UPDATE_COMPLETE'
  | 'IMPORT_IN_PROGRESS'
  | 'IMPORT_FAILED'
  | 'IMPORT_COMPLETE'
  | 'IMPORT_ROLLBACK_COMPLETE';

export type ChangeSetStatus = 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'FAILED';
export type ExecutionStatus =
  'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE';

export type OnFailure = 'DO_NOTHING' | 'ROLLBACK' | 'DELETE';

export interface Tag {
  Key: string;
  Value: string;
}

export interface ParameterRecord {
  key: string;
  /** The value given or defaulted (never masked here; NoEcho masking happens on describe). */
  value: string;
}

export interface StackEventRecord {
  eventId: string;
  timestamp: string;
  logicalId: string;
  physicalId?: string;
  resourceType: string;
  status: StackStatus | ResourceStatus;
  reason?: string;
  /** JSON of the resource's resolved properties, on resource events that have them. */
  properties?: string;
  clientRequestToken?: string;
}

export interface ResourceRecord {
  logicalId: string;
  type: string;
  physicalId?: string;
  status: ResourceStatus;
  reason?: string;
  updated: string;
  /** The resolved properties the physical resource was last provisioned with. */
  properties: TemplateObject;
  /** `Fn::GetAtt` values the provisioner reported. */
  attributes: Record<string, TemplateValue>;
  deletionPolicy?: string;
  updateReplacePolicy?: string;
  metadata?: TemplateValue;
}

/** A Change as DescribeChangeSet returns it (AWS member names). */
export interface ChangeRecord {
  Type: 'Resource';
  ResourceChange: {
    Action: 'Add' | 'Modify' | 'Remove' | 'Import';
    LogicalResourceId: string;
    PhysicalResourceId?: string;
    ResourceType: string;
    Replacement?: 'True' | 'False' | 'Conditional';
    PolicyAction?: string;
    Scope: string[];
    Details: Array<{
      Target: { Attribute: string; Name?: string; RequiresRecreation: string };
      Evaluation: 'Static' | 'Dynamic';
      ChangeSource: string;
      CausingEntity?: string;
    }>;
  };
}

/** A resource an IMPORT change set brings into the stack: its logical ID and identifier properties. */
export interface ResourceToImportRecord {
  logicalId: string;
  type: string;
  identifier: Record<string, string>;
  /** The physical resource the identifier named when the change set was created. */
  physicalId: string;
}

export interface ChangeSetRecord {
  id: string;
  name: string;
  type: 'CREATE' | 'UPDATE' | 'IMPORT';
  /** IMPORT change sets only. */
  resourcesToImport?: ResourceToImportRecord[];
  description?: string;
  templateBody: string;
  parameters: ParameterRecord[];
  noEcho: string[];
  capabilities: string[];
  tags: Tag[];
  notificationArns: string[];
  creationTime: string;
  status: ChangeSetStatus;
  statusReason?: string;
  executionStatus: ExecutionStatus;
  changes: ChangeRecord[];
}

export interface StackRecord {
  stackId: string;
  stackName: string;
  description?: string;
  status: StackStatus;
  statusReason?: string;
  creationTime: string;
  lastUpdatedTime?: string;
  deletionTime?: string;
  disableRollback: boolean;
  capabilities: string[];
  tags: Tag[];
  notificationArns: string[];
  timeoutInMinutes?: number;
  enableTerminationProtection: boolean;
  roleArn?: string;
  /** Absent while the stack is REVIEW_IN_PROGRESS (created by a CREATE change set, not executed). */
  templateBody?: string;
  parameters: ParameterRecord[];
  noEcho: string[];
  outputs: ResolvedOutput[];
  /** Export names this stack's resources and outputs import (Fn::ImportValue). */
  imports: string[];
  /** Current resources, in the order they were first created. */
  resources: Record<string, ResourceRecord>;
  /**
   * Physical resources the current operation replaced or removed and has not cleaned up yet
   * (kept here so a crash mid-update cannot leak them: DeleteStack still deletes them).
   */
  retiring: ResourceRecord[];
  /** Oldest first (DescribeStackEvents reverses). */
  events: StackEventRecord[];
  changeSets: ChangeSetRecord[];
  /** The change set last executed on the stack. */
  changeSetId?: string;
}

export const IN_PROGRESS_STATUSES: readonly StackStatus[] = [
  'CREATE_IN_PROGRESS',
  'ROLLBACK_IN_PROGRESS',
  'DELETE_IN_PROGRESS',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'IMPORT_IN_PROGRESS',
  'IMPORT_ROLLBACK_IN_PROGRESS',
];

/** Statuses from which UpdateStack / an UPDATE change set may start. */
export const UPDATABLE_STATUSES: readonly StackStatus[] = [
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  // AWS counts both as a last known stable state (RollbackStack's documentation lists them).
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
  // Left by an update with DisableRollback: fixing the template and updating again is the way out.
  'UPDATE_FAILED',
];
