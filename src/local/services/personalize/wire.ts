/**
 * Personalize's AWS operations (`AmazonPersonalize.*`): each AWS-shaped request goes to the
 * `PersonalizeService` call that reads and checks its members. Typed with
 * @aws-sdk/client-personalize's request and response types.
 */
import type {
  CreateDatasetGroupRequest,
  CreateDatasetGroupResponse,
  CreateDatasetImportJobRequest,
  CreateDatasetImportJobResponse,
  CreateDatasetRequest,
  CreateDatasetResponse,
  CreateSchemaRequest,
  CreateSchemaResponse,
  DeleteDatasetGroupRequest,
  DeleteDatasetRequest,
  DeleteSchemaRequest,
  DescribeDatasetGroupRequest,
  DescribeDatasetImportJobRequest,
  DescribeDatasetRequest,
  DescribeSchemaRequest,
  ListDatasetGroupsRequest,
  ListDatasetImportJobsRequest,
  ListDatasetsRequest,
  ListSchemasRequest,
} from '@aws-sdk/client-personalize';
import { members } from '../../core/json-input.js';
import type { OperationTable } from '../../core/service.js';
import type { PersonalizeService } from './dataset-resources.js';

export function personalizeOperations(p: PersonalizeService): OperationTable {
  return {
    CreateDatasetGroup: (i: CreateDatasetGroupRequest): Promise<CreateDatasetGroupResponse> =>
      p.createDatasetGroup(members(i)),
    DescribeDatasetGroup: (i: DescribeDatasetGroupRequest) => p.describeDatasetGroup(members(i)),
    ListDatasetGroups: (i: ListDatasetGroupsRequest) => p.listDatasetGroups(members(i)),
    DeleteDatasetGroup: (i: DeleteDatasetGroupRequest) => p.deleteDatasetGroup(members(i)),
    CreateSchema: (i: CreateSchemaRequest): Promise<CreateSchemaResponse> => p.createSchema(members(i)),
    DescribeSchema: (i: DescribeSchemaRequest) => p.describeSchema(members(i)),
    ListSchemas: (i: ListSchemasRequest) => p.listSchemas(members(i)),
    DeleteSchema: (i: DeleteSchemaRequest) => p.deleteSchema(members(i)),
    CreateDataset: (i: CreateDatasetRequest): Promise<CreateDatasetResponse> => p.createDataset(members(i)),
    DescribeDataset: (i: DescribeDatasetRequest) => p.describeDataset(members(i)),
    ListDatasets: (i: ListDatasetsRequest) => p.listDatasets(members(i)),
    DeleteDataset: (i: DeleteDatasetRequest) => p.deleteDataset(members(i)),
    CreateDatasetImportJob: (i: CreateDatasetImportJobRequest): Promise<CreateDatasetImportJobResponse> =>
      p.createDatasetImportJob(members(i)),
    DescribeDatasetImportJob: (i: DescribeDatasetImportJobRequest) => p.describeDatasetImportJob(members(i)),
    ListDatasetImportJobs: (i: ListDatasetImportJobsRequest) => p.listDatasetImportJobs(members(i)),
  };
}
