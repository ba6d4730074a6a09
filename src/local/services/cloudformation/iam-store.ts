/**
 * IAM as the local stack knows it: recorded, not enforced. Stacks create roles and policies so
 * templates that pass role ARNs to Glue, Personalize or Step Functions deploy unchanged; the
 * documents are kept (and name clashes refused, as IAM does) but no request is ever authorized
 * against them. One JSON file, `<dataDir>/cloudformation/iam.json`, replaced atomically.
 */
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../../../shared/atomic-file.js';
import type { TemplateObject, TemplateValue } from './template/index.js';

export interface RoleRecord {
  roleName: string;
  roleId: string;
  arn: string;
  path: string;
  assumeRolePolicyDocument: TemplateObject;
  description?: string;
  maxSessionDuration?: number;
  managedPolicyArns: string[];
  /** The role's own inline policies (`Policies` property), by name. */
  inlinePolicies: Record<string, TemplateObject>;
  permissionsBoundary?: string;
  tags: TemplateValue[];
  createDate: string;
}

export interface ManagedPolicyRecord {
  arn: string;
  policyName: string;
  policyId: string;
  path: string;
  document: TemplateObject;
  description?: string;
  defaultVersionId: string;
  createDate: string;
  updateDate: string;
  roles: string[];
  users: string[];
  groups: string[];
}

/** An `AWS::IAM::Policy`: an inline policy attached to roles, users and groups. */
export interface InlinePolicyRecord {
  id: string;
  policyName: string;
  document: TemplateObject;
  roles: string[];
  users: string[];
  groups: string[];
}

interface IamState {
  roles: Record<string, RoleRecord>;
  managedPolicies: Record<string, ManagedPolicyRecord>;
  policies: Record<string, InlinePolicyRecord>;
}

export class IamStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly state: IamState,
  ) {}

  static async open(dir: string): Promise<IamStore> {
    const file = path.join(dir, 'iam.json');
    const loaded = await readJson<Partial<IamState>>(file);
    return new IamStore(file, {
      roles: loaded?.roles ?? {},
      managedPolicies: loaded?.managedPolicies ?? {},
      policies: loaded?.policies ?? {},
    });
  }

  getRole(name: string): RoleRecord | undefined {
    return Object.hasOwn(this.state.roles, name) ? this.state.roles[name] : undefined;
  }

  async putRole(role: RoleRecord): Promise<void> {
    this.state.roles[role.roleName] = role;
    await this.save();
  }

  async deleteRole(name: string): Promise<void> {
    delete this.state.roles[name];
    await this.save();
  }

  getManagedPolicy(arn: string): ManagedPolicyRecord | undefined {
    return Object.hasOwn(this.state.managedPolicies, arn) ? this.state.managedPolicies[arn] : undefined;
  }

  async putManagedPolicy(policy: ManagedPolicyRecord): Promise<void> {
    this.state.managedPolicies[policy.arn] = policy;
    await this.save();
  }

  async deleteManagedPolicy(arn: string): Promise<void> {
    delete this.state.managedPolicies[arn];
    await this.save();
  }

  getPolicy(id: string): InlinePolicyRecord | undefined {
    return Object.hasOwn(this.state.policies, id) ? this.state.policies[id] : undefined;
  }

  async putPolicy(policy: InlinePolicyRecord): Promise<void> {
    this.state.policies[policy.id] = policy;
    await this.save();
  }

  async deletePolicy(id: string): Promise<void> {
    delete this.state.policies[id];
    await this.save();
  }

  stats(): { roles: number; managedPolicies: number; policies: number } {
    return {
      roles: Object.keys(this.state.roles).length,
      managedPolicies: Object.keys(this.state.managedPolicies).length,
      policies: Object.keys(this.state.policies).length,
    };
  }

  /** Writes one after another, each the latest state (callers mutate `state` before saving). */
  private save(): Promise<void> {
    const next = this.writing.then(() => writeJsonAtomic(this.file, this.state));
    this.writing = next.catch(() => undefined);
    return next;
  }
}
