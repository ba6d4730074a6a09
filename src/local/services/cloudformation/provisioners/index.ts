/**
 * The resource types the local CloudFormation can provision. Adding one: write its
 * `Provisioner` in a file of this folder and add it to `BUILTIN_PROVISIONERS`.
 */
import { eventsRuleProvisioner } from './events-rule.js';
import { glueJobProvisioner } from './glue-job.js';
import { iamManagedPolicyProvisioner } from './iam-managed-policy.js';
import { iamPolicyProvisioner } from './iam-policy.js';
import { iamRoleProvisioner } from './iam-role.js';
import { personalizeCampaignProvisioner } from './personalize-campaign.js';
import { personalizeDatasetGroupProvisioner } from './personalize-dataset-group.js';
import { personalizeDatasetProvisioner } from './personalize-dataset.js';
import { personalizeSchemaProvisioner } from './personalize-schema.js';
import { personalizeSolutionProvisioner } from './personalize-solution.js';
import { ProvisionerRegistry } from './registry.js';
import { s3BucketPolicyProvisioner } from './s3-bucket-policy.js';
import { s3BucketProvisioner } from './s3-bucket.js';
import { stepFunctionsStateMachineProvisioner } from './stepfunctions-state-machine.js';
import type { Provisioner } from './types.js';

export const BUILTIN_PROVISIONERS: readonly Provisioner[] = [
  s3BucketProvisioner,
  s3BucketPolicyProvisioner,
  iamRoleProvisioner,
  iamPolicyProvisioner,
  iamManagedPolicyProvisioner,
  glueJobProvisioner,
  personalizeDatasetGroupProvisioner,
  personalizeSchemaProvisioner,
  personalizeDatasetProvisioner,
  personalizeSolutionProvisioner,
  personalizeCampaignProvisioner,
  stepFunctionsStateMachineProvisioner,
  eventsRuleProvisioner,
];

/** A registry with every built-in provisioner (callers may `register` more). */
export function createDefaultProvisioners(): ProvisionerRegistry {
  return new ProvisionerRegistry(BUILTIN_PROVISIONERS);
}

export { ProvisionerRegistry } from './registry.js';
export * from './types.js';
