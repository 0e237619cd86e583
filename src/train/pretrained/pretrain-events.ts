// Progress of a pre-training run as plain JSON events: the CLI's progress bar consumes them, a job runner could too.

/** Vocabulary training: words counted (documents) or merges done. */
export interface VocabEvent {
  type: 'vocab';
  stage: 'count' | 'merge';
  done: number;
  total: number;
}

/** Documents encoded so far. */
export interface CorpusReadEvent {
  type: 'read';
  documents: number;
}

export interface PretrainStartEvent {
  type: 'start';
  /** Steps done already (a resumed run) and planned. */
  step: number;
  total: number;
  sequences: number;
  held_out_sequences: number;
  documents: number;
  tokens: number;
  parameters: number;
  vocab_size: number;
}

export interface PretrainStepEvent {
  type: 'step';
  step: number;
  total: number;
  loss: number;
  lr: number;
  /** Training throughput so far (real tokens, padding excluded, per second of training steps). */
  tokens_per_s: number;
  /** Passes over the training sequences so far. */
  epochs: number;
}

/** A held-out evaluation. */
export interface PretrainEvalEvent {
  type: 'eval';
  step: number;
  /** Mean training loss since the previous evaluation. */
  train_loss: number;
  mlm_loss: number;
  masked_accuracy: number;
  positions: number;
}

export interface PretrainLogEvent {
  type: 'log';
  level: 'info' | 'warning';
  message: string;
}

export interface PretrainDoneEvent {
  type: 'done';
  reason: 'completed' | 'cancelled';
  step: number;
  out: string;
}

export type PretrainEvent = VocabEvent | CorpusReadEvent | PretrainStartEvent | PretrainStepEvent | PretrainEvalEvent | PretrainLogEvent | PretrainDoneEvent;
export type PretrainEventHandler = (event: PretrainEvent) => void;
