/**
 * The served models of solution versions: one `MLRM` file per ACTIVE version under
 * `<dataDir>/personalize/models/<solution name>/<version id>.mlrm`, written atomically before the
 * version is recorded ACTIVE, and loaded once for what serves recommendations from it (batch
 * inference jobs, campaigns): `get(solutionVersionArn)` reads and deserializes the file on first
 * use and keeps the most recently used models in memory. The file is read into shared memory, so
 * the campaigns' scoring thread (campaign-scoring.ts) serves the same bytes without a copy
 * (`loaded(solutionVersionArn)`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../shared/atomic-file.js';
import { deserializeModel, type Model } from '../../../recommender/index.js';
import { AwsError } from '../../core/errors.js';
import { personalizeDir } from './dataset-files.js';

/** Models kept loaded (least recently used dropped first). */
const CACHED_MODELS = 8;

function modelsDir(dataDir: string): string {
  return path.join(personalizeDir(dataDir), 'models');
}

/** `arn:…:solution/<name>/<id>` → `<dataDir>/personalize/models/<name>/<id>.mlrm`. */
export function modelFile(dataDir: string, solutionVersionArn: string): string {
  const m = /:solution\/([a-zA-Z0-9][a-zA-Z0-9\-_]{0,62})\/([0-9a-f]{8})$/.exec(solutionVersionArn);
  if (!m) throw new Error(`Not a solution version ARN: ${solutionVersionArn}`);
  return path.join(modelsDir(dataDir), m[1]!, `${m[2]!}.mlrm`);
}

/** A loaded model and the shared bytes its arrays are views on. */
export interface LoadedModel {
  model: Model;
  bytes: Uint8Array;
}

export class TrainedModels {
  /** Loads in flight or done, most recently used last. */
  private readonly loadedModels = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly dataDir: string,
    /** The version's status, or undefined when there is no such version. */
    private readonly statusOf: (solutionVersionArn: string) => string | undefined,
  ) {}

  /**
   * The model of an ACTIVE solution version, loaded once and cached. ResourceNotFoundException for
   * an unknown version, ResourceInUseException for one that is not ACTIVE.
   */
  async get(solutionVersionArn: string): Promise<Model> {
    return (await this.loaded(solutionVersionArn)).model;
  }

  /** As `get`, with the model file's bytes (in a SharedArrayBuffer) the model is read from. */
  async loaded(solutionVersionArn: string): Promise<LoadedModel> {
    const status = this.statusOf(solutionVersionArn);
    if (status === undefined)
      throw new AwsError(
        'ResourceNotFoundException',
        `Could not find resource with ARN ${solutionVersionArn}`,
      );
    if (status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Solution version ${solutionVersionArn} is in ${status} state; only an ACTIVE solution version has a model.`,
      );
    let model = this.loadedModels.get(solutionVersionArn);
    if (model === undefined) {
      model = this.load(solutionVersionArn);
      // A failed load is not cached: the next call reads the file again.
      model.catch(() => this.loadedModels.delete(solutionVersionArn));
    } else this.loadedModels.delete(solutionVersionArn);
    this.loadedModels.set(solutionVersionArn, model);
    while (this.loadedModels.size > CACHED_MODELS)
      this.loadedModels.delete(this.loadedModels.keys().next().value!);
    return model;
  }

  private async load(solutionVersionArn: string): Promise<LoadedModel> {
    const file = modelFile(this.dataDir, solutionVersionArn);
    const handle = await fs.open(file, 'r');
    let bytes: Uint8Array;
    try {
      const { size } = await handle.stat();
      bytes = new Uint8Array(new SharedArrayBuffer(size));
      let offset = 0;
      while (offset < size) {
        const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
        if (bytesRead === 0) throw new Error(`${file} ended after ${offset} of ${size} bytes`);
        offset += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return { model: deserializeModel(bytes), bytes };
  }

  /** Writes a version's model file atomically (before the version is recorded ACTIVE). */
  async write(solutionVersionArn: string, bytes: Uint8Array): Promise<void> {
    const file = modelFile(this.dataDir, solutionVersionArn);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, bytes);
    this.loadedModels.delete(solutionVersionArn);
  }

  /** Removes a version's model (its solution was deleted). */
  async remove(solutionVersionArn: string): Promise<void> {
    this.loadedModels.delete(solutionVersionArn);
    await fs.rm(modelFile(this.dataDir, solutionVersionArn), { force: true });
  }

  /**
   * On start: removes temp files of writes that never finished and model files of versions that
   * are not ACTIVE (written just before the stack stopped, before ACTIVE was recorded).
   */
  async sweep(active: ReadonlySet<string>): Promise<void> {
    const keep = new Set([...active].map((arn) => modelFile(this.dataDir, arn)));
    const root = modelsDir(this.dataDir);
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const file = path.join(entry.parentPath, entry.name);
      if (entry.isFile() && !keep.has(file)) await fs.rm(file, { force: true });
    }
  }
}
