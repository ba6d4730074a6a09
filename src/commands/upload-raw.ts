import { prose } from '../lib/cli/prose.js';
import { Args, Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { DEFAULT_RAW_FILE, uploadRaw, type UploadRawResult } from '../lib/data/upload.js';
import { formatBytes, startProgressBar, type ProgressBar } from '../lib/cli/ui.js';

export default class UploadRaw extends MlpipeCommand<typeof UploadRaw> {
  static override summary = 'Upload the raw interactions file (and its items file) to the data lake.';
  static override description = prose`Checks that FILE is interactions data (a header with user and item columns, or headerless
numeric rows), then uploads it to s3://<bucket>/<raw prefix>/<file name>, multipart for large files.
movies.dat beside it is uploaded too (or the file given with --items), and movie_genres.dat beside that. On the local target the
bucket is created if missing; on AWS it must exist (run \`mlpipe deploy\`).`;
  static override examples = [
    '<%= config.bin %> upload-raw',
    '<%= config.bin %> upload-raw data/user_ratedmovies-timestamps.dat --items data/movies.dat',
    '<%= config.bin %> upload-raw ~/ml-latest-small/ratings.csv --key raw/ratings.csv',
    '<%= config.bin %> upload-raw --json | jq -r .interactions.uri',
  ];
  static override args = {
    file: Args.string({
      description: `Raw interactions file [default: ${DEFAULT_RAW_FILE}]`,
      required: false,
    }),
  };
  static override flags = {
    items: Flags.string({
      description: 'Items (movies) file to upload beside it [default: movies.dat next to FILE, if present].',
    }),
    key: Flags.string({
      description: 'Object key for the interactions file [default: <raw prefix><file name>].',
    }),
    force: Flags.boolean({ description: 'Upload even if the file does not look like interactions data.' }),
  };

  async run(): Promise<UploadRawResult> {
    const clients = await this.clients();
    let bar: ProgressBar | undefined;
    const result = await uploadRaw(clients, this.settings, {
      file: this.args.file ?? DEFAULT_RAW_FILE,
      itemsFile: this.flags.items,
      key: this.flags.key,
      force: this.flags.force,
      onNote: (message) => this.notice(message),
      onProgress: (label, loaded, total) => {
        bar ??= startProgressBar(`Uploading ${label}`, total, this.uiOptions);
        bar.update(loaded);
      },
      onProgressDone: () => {
        bar?.finish();
        bar = undefined;
      },
    });
    for (const object of [result.interactions, result.items, result.genres]) {
      if (object === null) continue;
      this.log(`Uploaded ${object.file} → ${object.uri}`);
      this.log(
        `  ${formatBytes(object.size)} (${object.size} bytes), ETag ${object.etag}${object.multipart ? ', multipart' : ''}`,
      );
    }
    return result;
  }
}
