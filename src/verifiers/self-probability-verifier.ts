import { UsageError } from "../core/errors.js";
import { questionText, reportScore, type Verifier, type VerifierScore } from "./verifier.js";

export interface SelfProbabilityOptions {
  /** Named backend in `ctx.backends` to ask; default the task's backend (the model judging itself). */
  backend?: string;
}

/** The only two replies allowed where the backend enforces grammars. */
const YES_NO_GRAMMAR = 'root ::= "Yes" | "No"';

/**
 * P(True) after Kadavath et al., "Language Models (Mostly) Know What They Know" (2022): show the model
 * a proposed solution, ask "Is the proposed answer correct?", and read its probability of "Yes".
 *
 * The reply is constrained to Yes/No where grammars are enforced and sampled at temperature 1, so the
 * reported token probability is the model's own: P(Yes) is that confidence after a "Yes" and one minus
 * it after a "No" (either way the same number, whichever token happened to be drawn). Without a
 * grammar the reply is parsed; its first-token confidence is used only when the reply opens with the
 * verdict, else the verdict counts as certain. No verdict at all scores 0.5.
 */
export function selfProbabilityVerifier(options: SelfProbabilityOptions = {}): Verifier {
  const name = "self-probability";
  return {
    name,
    async score(ctx, candidate, _all, question): Promise<VerifierScore> {
      const backend = options.backend === undefined ? ctx.backend : ctx.backends[options.backend];
      if (!backend) throw new UsageError(`unknown backend "${options.backend}"`);
      const constrained = backend.capabilities.grammar;
      const content = [
        `Question:\n${questionText(question)}`,
        `Proposed solution:\n${candidate.text}`,
        `Proposed answer: ${candidate.answer ?? "(none given)"}`,
        "Is the proposed answer correct? Answer Yes or No.",
      ].join("\n\n");
      const result = await ctx.generate(
        {
          messages: [{ role: "user", content }],
          n: 1,
          temperature: 1,
          // Any fixed seed will do (the reading does not depend on the token drawn); a fixed one is cacheable.
          seed: question.params?.seed ?? 0,
          maxTokens: constrained ? 2 : 8,
          confidence: true,
          ...(constrained && { grammar: YES_NO_GRAMMAR }),
        },
        {
          ...(options.backend !== undefined && { backend: options.backend }),
          step: { kind: "verify", label: `P(true) of candidate ${candidate.index}` },
        },
      );
      const completion = result.completions[0];
      const text = (completion?.text ?? "").trim();
      const leading = text.match(/^(yes|no)\b/i)?.[1];
      const verdict = (leading ?? text.match(/\b(yes|no)\b/i)?.[1])?.toLowerCase();
      if (verdict === undefined) {
        return reportScore(ctx, name, candidate, { score: 0.5, rationale: `no Yes/No verdict in "${text}"` });
      }
      // The first token carries the decision only when the reply starts with the verdict.
      const confidence = leading !== undefined ? completion?.tokenConfidences?.[0] : undefined;
      const said = verdict === "yes" ? "Yes" : "No";
      const pYes =
        confidence === undefined ? (said === "Yes" ? 1 : 0) : said === "Yes" ? confidence : 1 - confidence;
      return reportScore(ctx, name, candidate, {
        score: pYes,
        rationale: confidence === undefined ? `said ${said}` : `said ${said} with p=${confidence.toFixed(3)}`,
      });
    },
  };
}
