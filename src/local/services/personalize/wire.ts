/**
 * Personalize's AWS operations (`AmazonPersonalize.*`): each AWS-shaped request goes to the call
 * that reads and checks its members — the data resources' (`PersonalizeService`) or training's
 * (`SolutionResources`), batch inference's (`BatchInferenceJobs`) or campaigns' (`Campaigns`). Typed with @aws-sdk/client-personalize's request and response types.
 */
import type {
  CreateBatchInferenceJobRequest,
  CreateBatchInferenceJobResponse,
  CreateCampaignRequest,
  CreateCampaignResponse,
  DeleteCampaignRequest,
  DescribeBatchInferenceJobRequest,
  DescribeCampaignRequest,
  ListBatchInferenceJobsRequest,
  ListCampaignsRequest,
  UpdateCampaignRequest,
  UpdateCampaignResponse,
  CreateDatasetGroupRequest,
  CreateDatasetGroupResponse,
  CreateDatasetImportJobRequest,
  CreateDatasetImportJobResponse,
  CreateDatasetRequest,
  CreateDatasetResponse,
  CreateSchemaRequest,
  CreateSchemaResponse,
  CreateSolutionRequest,
  CreateSolutionResponse,
  CreateSolutionVersionRequest,
  CreateSolutionVersionResponse,
  DeleteDatasetGroupRequest,
  DeleteDatasetRequest,
  DeleteSchemaRequest,
  DeleteSolutionRequest,
  DescribeDatasetGroupRequest,
  DescribeDatasetImportJobRequest,
  DescribeDatasetRequest,
  DescribeRecipeRequest,
  DescribeSchemaRequest,
  DescribeSolutionRequest,
  DescribeSolutionVersionRequest,
  GetSolutionMetricsRequest,
  GetSolutionMetricsResponse,
  ListDatasetGroupsRequest,
  ListDatasetImportJobsRequest,
  ListDatasetsRequest,
  ListRecipesRequest,
  ListSchemasRequest,
  ListSolutionsRequest,
  ListSolutionVersionsRequest,
  StopSolutionVersionCreationRequest,
} from '@aws-sdk/client-personalize';
import { members } from '../../core/json-input.js';
import type { OperationTable } from '../../core/service.js';
import type { Personalize } from './service.js';

export function personalizeOperations({
  datasets: p,
  solutions: t,
  batch: b,
  campaigns: c,
}: Personalize): OperationTable {
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
    CreateSolution: (i: CreateSolutionRequest): Promise<CreateSolutionResponse> =>
      t.createSolution(members(i)),
    DescribeSolution: (i: DescribeSolutionRequest) => t.describeSolution(members(i)),
    ListSolutions: (i: ListSolutionsRequest) => t.listSolutions(members(i)),
    DeleteSolution: (i: DeleteSolutionRequest) => t.deleteSolution(members(i)),
    CreateSolutionVersion: (i: CreateSolutionVersionRequest): Promise<CreateSolutionVersionResponse> =>
      t.createSolutionVersion(members(i)),
    DescribeSolutionVersion: (i: DescribeSolutionVersionRequest) => t.describeSolutionVersion(members(i)),
    ListSolutionVersions: (i: ListSolutionVersionsRequest) => t.listSolutionVersions(members(i)),
    StopSolutionVersionCreation: (i: StopSolutionVersionCreationRequest) =>
      t.stopSolutionVersionCreation(members(i)),
    GetSolutionMetrics: (i: GetSolutionMetricsRequest): Promise<GetSolutionMetricsResponse> =>
      t.getSolutionMetrics(members(i)),
    ListRecipes: (i: ListRecipesRequest) => t.listRecipes(members(i)),
    DescribeRecipe: (i: DescribeRecipeRequest) => t.describeRecipe(members(i)),
    CreateBatchInferenceJob: (i: CreateBatchInferenceJobRequest): Promise<CreateBatchInferenceJobResponse> =>
      b.createBatchInferenceJob(members(i)),
    DescribeBatchInferenceJob: (i: DescribeBatchInferenceJobRequest) =>
      b.describeBatchInferenceJob(members(i)),
    ListBatchInferenceJobs: (i: ListBatchInferenceJobsRequest) => b.listBatchInferenceJobs(members(i)),
    CreateCampaign: (i: CreateCampaignRequest): Promise<CreateCampaignResponse> =>
      c.createCampaign(members(i)),
    DescribeCampaign: (i: DescribeCampaignRequest) => c.describeCampaign(members(i)),
    ListCampaigns: (i: ListCampaignsRequest) => c.listCampaigns(members(i)),
    UpdateCampaign: (i: UpdateCampaignRequest): Promise<UpdateCampaignResponse> =>
      c.updateCampaign(members(i)),
    DeleteCampaign: (i: DeleteCampaignRequest) => c.deleteCampaign(members(i)),
  };
}
