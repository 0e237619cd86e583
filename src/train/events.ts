// Progress of a training run as plain JSON events: the CLI's progress bars consume them today, a job runner tomorrow.

/** The run begins (or resumes) an epoch. */
export interface StartEvent {
  type: 'start';
  epoch: number;
  epochs: number;
  /** Steps in this epoch and in the whole run; `step` is how many of the run's are done. */
  steps: number;
  total: number;
  step: number;
  examples: number;
  parameters: number;
}

/** One optimisation step done. */
export interface StepEvent {
  type: 'step';
  step: number;
  total: number;
  epoch: number;
  loss: number;
  accuracy: number;
  /** Examples in this step's batch. */
  examples: number;
  /** Training throughput of the epoch so far. */
  examples_per_s: number;
  lr: number;
  /** Seconds the run's remaining steps should take at this session's pace so far (geul finetune). */
  eta_s?: number;
}

/** An epoch done and evaluated. */
export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  epochs: number;
  train_loss: number;
  train_accuracy: number;
  valid_loss: number;
  valid_accuracy: number;
  valid_f1_macro: number;
  seconds: number;
  examples_per_s: number;
  /** This epoch improved the validation accuracy, so its model was exported. */
  best: boolean;
}

/** Reading the training data (bytes, Parquet rows or folder files, as the readers count). */
export interface ReadEvent {
  type: 'read';
  done: number;
  total: number;
}

export interface LogEvent {
  type: 'log';
  level: 'info' | 'warning';
  message: string;
}

/** The run ended: all epochs, early stopping, or cancelled (after a checkpoint a resumed run continues from). */
export interface DoneEvent {
  type: 'done';
  reason: 'completed' | 'patience' | 'cancelled';
  step: number;
  epoch: number;
  best: number;
  out: string;
}

export type TrainEvent = StartEvent | StepEvent | EpochEvent | ReadEvent | LogEvent | DoneEvent;
export type TrainEventHandler = (event: TrainEvent) => void;
