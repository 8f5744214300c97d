/**
 * How answers look in a task: what to ask the model for, how to pull the answer out of free text, and
 * when two answers are the same. Voting, verifiers and benchmarks all go through one of these.
 */
export interface AnswerFormat {
  readonly name: string;
  /** Appended to the question so the model states its answer in an extractable way. */
  readonly instruction: string;
  /** The answer in `text`, or undefined when there is none. */
  extract(text: string): string | undefined;
  /** Canonical key: equivalent answers share it, so votes can be counted in a map. */
  canonical(answer: string): string;
  /**
   * A pattern (see `GenerationParams.stopAfter`) that matches once the answer the instruction asks for
   * is completely written, so generation can end there instead of talking on.
   */
  readonly stopAfter?: string;
}

/** Whether two answers are the same under a format. */
export const sameAnswer = (format: AnswerFormat, a: string, b: string): boolean =>
  format.canonical(a) === format.canonical(b);
