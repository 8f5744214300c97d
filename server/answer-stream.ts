/**
 * The content deltas of one streamed choice. Live text is passed on so the pieces join to the trimmed
 * text (the answer `direct` gives): leading whitespace is dropped and trailing whitespace held back
 * until more text follows. `finish` then sends whatever of the final answer is still missing.
 */
export class AnswerStream {
  private started = false;
  private held = "";
  private sent = "";

  /** What to send now for this piece of live text (may be ""). */
  push(text: string): string {
    let piece = text;
    if (!this.started) {
      piece = piece.replace(/^\s+/, "");
      if (piece === "") return "";
      this.started = true;
    }
    const combined = this.held + piece;
    const trailing = combined.match(/\s+$/);
    const out = trailing ? combined.slice(0, trailing.index) : combined;
    this.held = trailing ? trailing[0] : "";
    this.sent += out;
    return out;
  }

  /**
   * What to send so the deltas join to `answer`. If live text already went out that the answer does not
   * start with, nothing can be taken back: "" is returned and the deltas stand as sent.
   */
  finish(answer: string): string {
    if (!answer.startsWith(this.sent)) return "";
    const rest = answer.slice(this.sent.length);
    this.sent = answer;
    return rest;
  }

  get text(): string {
    return this.sent;
  }
}
