/**
 * Tree of Thoughts' value labels: the model judges a state "sure", "likely" or "impossible" to lead to a
 * solution. They map to numbers in [0, 1]; several judgements of one state are averaged.
 */
const VALUE_OF_LABEL = { sure: 1, likely: 0.5, impossible: 0 } as const;

export type ValueLabel = keyof typeof VALUE_OF_LABEL;

/** A judgement with no label is weak evidence either way: below "likely", above "impossible". */
export const UNLABELLED_VALUE = 0.25;

/** A label word; "not sure" is doubt, not a verdict ("unlikely" never matches: no word boundary). */
const LABEL = String.raw`(?<!\bnot\s)\b(sure|likely|impossible)\b`;

/** Generation ends at the first label, so the model does not go on to judge made-up examples. */
export const VALUE_LABEL_WRITTEN = LABEL;

/** The first label in a judgement, if any. */
export function readValueLabel(text: string): ValueLabel | undefined {
  const match = text.toLowerCase().match(new RegExp(LABEL));
  return match?.[1] as ValueLabel | undefined;
}

/** The mean value of several judgements of one state. */
export function valueOfJudgements(texts: readonly string[]): number {
  if (texts.length === 0) return UNLABELLED_VALUE;
  const values = texts.map((text): number => {
    const label = readValueLabel(text);
    return label === undefined ? UNLABELLED_VALUE : VALUE_OF_LABEL[label];
  });
  return values.reduce((a, b) => a + b, 0) / values.length;
}
