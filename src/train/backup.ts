/**
 * BackupAndRestore (Keras's name): training that survives an interruption. It backs up the
 * weights, the optimizer's state, the random generator, where fit() is (epoch, batch) and the
 * running sums of the epoch's loss and metrics, at the end of every epoch (or every N
 * batches) and when training is stopped (Ctrl-C through model.stopTraining, EarlyStopping).
 * A later fit() with a BackupAndRestore on the same folder continues from there; with
 * `fit({ seed })` the batches and dropout masks repeat, so the weights and the history end
 * bit for bit as in an uninterrupted run. The backup goes wherever model.save puts it: a
 * directory in Node, 'indexeddb://name' in a browser.
 */
import { loadModelFull, removeSavedModel, savedModelExists } from '../io/router.js';
import { ArgumentError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { globalRandom } from '../util/random.js';
import { Callback, type Logs, type ResumePoint } from './callbacks.js';

/** Options of {@link BackupAndRestore}. */
export interface BackupAndRestoreOptions {
  /** The folder of the backup (a saved model with the training state in its model.json). */
  backupDir: string;
  /** 'epoch' (default): back up after every epoch; a number: also every that many batches. */
  saveFreq?: 'epoch' | number;
  /** Remove the backup when training completes (default true, as Keras does). */
  deleteCheckpoint?: boolean;
  /** Anything else to keep with the backup (the command line keeps its arguments here). */
  extra?: Record<string, unknown>;
}

/** What a backup holds besides the weights. */
export interface BackupState extends ResumePoint {
  /** The global random generator's state. */
  random: number[];
  /** Optimizer slot arrays saved with the weights (optimizer/0, optimizer/1, ...). */
  optimizerSlots: number;
  /** The `extra` option of the callback that wrote it. */
  extra?: Record<string, unknown>;
}

/** The backup in `dir` (a saved model whose model.json holds the state), or null if none. */
async function readBackup(dir: string) {
  if (!(await savedModelExists(dir, 'BackupAndRestore'))) return null;
  const loaded = await loadModelFull(dir);
  const state = loaded.file.extra?.backup as BackupState | undefined;
  if (!state)
    throw new ArgumentError(
      `BackupAndRestore: ${dir} holds a model but no training state, so it is not a backup (a model saved by model.save?). Remove it or choose another backupDir.`,
    );
  return { loaded, state };
}

/**
 * Training that survives an interruption (Keras's BackupAndRestore): backs up the weights,
 * the optimizer's state, the random generator and where fit is after every epoch (or every
 * `saveFreq` batches) and when training is stopped; a later fit with a BackupAndRestore on the
 * same folder continues from there, and with `fit({ seed })` ends bit for bit as an
 * uninterrupted run. In Node it writes a folder (atomically); in a browser, 'indexeddb://name'
 * (on webgpu too: it reads the optimizer state with getStateAsync).
 *
 * @throws ArgumentError at construction without a backupDir or with a bad saveFreq; at resume
 *   when the folder holds a model that is not a backup, or one for another model
 * @example
 * ```ts
 * const backup = new rc.callbacks.BackupAndRestore({ backupDir: 'runs/backup' });
 * await model.fit(x, y, { epochs: 20, seed: 1, callbacks: [backup] });
 * ```
 */
export class BackupAndRestore extends Callback {
  /** The backup's folder. */
  readonly backupDir: string;
  /** `'epoch'`, or a number of batches between backups. */
  readonly saveFreq: 'epoch' | number;
  /** Whether the backup is removed when training completes. */
  readonly deleteCheckpoint: boolean;
  /** Kept with the backup. */
  extra: Record<string, unknown> | undefined;
  /** Batches trained in this fit() call (for saveFreq in batches). */
  private stepsSeen = 0;

  constructor(options: BackupAndRestoreOptions) {
    super();
    checkOptions('BackupAndRestore', options, [
      'backupDir',
      'saveFreq',
      'deleteCheckpoint',
      'extra',
    ]);
    if (!options || typeof options.backupDir !== 'string' || options.backupDir.length === 0)
      throw new ArgumentError(
        `BackupAndRestore: needs { backupDir: 'a folder' } for the backup, got ${JSON.stringify(options?.backupDir)}.`,
      );
    const { saveFreq = 'epoch' } = options;
    if (saveFreq !== 'epoch' && !(Number.isInteger(saveFreq) && saveFreq > 0))
      throw new ArgumentError(
        `BackupAndRestore: saveFreq must be 'epoch' or a positive number of batches, got ${JSON.stringify(saveFreq)}.`,
      );
    this.backupDir = options.backupDir;
    this.saveFreq = saveFreq;
    this.deleteCheckpoint = options.deleteCheckpoint ?? true;
    this.extra = options.extra;
  }

  /** The state of the backup in `dir`, or null when there is none (no model.json there). */
  static async read(dir: string): Promise<BackupState | null> {
    return (await readBackup(dir))?.state ?? null;
  }

  override async resumePoint(): Promise<ResumePoint | null> {
    this.stepsSeen = 0;
    const found = await readBackup(this.backupDir);
    if (!found) return null;
    const { loaded, state } = found;
    const model = this.model;
    const saved = loaded.model.weights;
    const mine = model.weights;
    if (saved.length !== mine.length || saved.some((w, i) => w.size !== mine[i]!.size))
      throw new ArgumentError(
        `BackupAndRestore: the backup in ${this.backupDir} was made by another model (${saved.length} weights against this model's ${mine.length}). Use another backupDir or the same model.`,
      );
    // Values only: the weights stay this model's tensors, on the current backend.
    model.setWeights(loaded.model.getWeights());
    const opt = model.optimizer;
    if (state.optimizerSlots > 0 && opt) {
      const slots = Array.from(
        { length: state.optimizerSlots },
        (_, i) => loaded.extraWeights.get(`optimizer/${i}`)!,
      );
      opt.setState(slots, model.trainableWeights);
    }
    globalRandom.setState(state.random);
    this.extra = state.extra ?? this.extra;
    return state;
  }

  override async onBatchEnd(): Promise<void> {
    this.stepsSeen++;
    if (typeof this.saveFreq === 'number' && this.stepsSeen % this.saveFreq === 0)
      await this.save();
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    // History records this epoch after the other callbacks: the backup adds it itself.
    await this.save({ epoch, logs });
  }

  override async onTrainEnd(): Promise<void> {
    const state = this.progress?.state;
    if (state === 'stopped') await this.save();
    else if (state === 'completed' && this.deleteCheckpoint) {
      await removeSavedModel(this.backupDir, 'BackupAndRestore');
    }
  }

  /** Backs up now (fit calls it by itself; a caller may too, e.g. before exiting). */
  async save(ended?: { epoch: number; logs: Logs }): Promise<void> {
    const model = this.model;
    const p = this.progress;
    const history = {
      epoch: [...p.history.epoch],
      history: Object.fromEntries(Object.entries(p.history.history).map(([k, v]) => [k, [...v]])),
    };
    if (ended && history.epoch[history.epoch.length - 1] !== ended.epoch) {
      history.epoch.push(ended.epoch);
      for (const [k, v] of Object.entries(ended.logs)) (history.history[k] ??= []).push(v);
    }
    const opt = model.optimizer;
    const slots = opt && opt.iterations > 0 ? await opt.getStateAsync(model.trainableWeights) : [];
    const state: BackupState = {
      epoch: p.epoch,
      batch: p.batch,
      sums: p.sums(),
      history,
      random: globalRandom.getState(),
      optimizerSlots: slots.length,
      ...(this.extra ? { extra: this.extra } : {}),
    };
    await model.save(this.backupDir, {
      extra: { backup: state },
      extraWeights: slots.map((data, i) => ({
        name: `optimizer/${i}`,
        shape: [data.length],
        data,
      })),
    });
  }
}
