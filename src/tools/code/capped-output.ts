/** Text a sandboxed program printed, kept up to a limit; the sandboxes stop a program that writes past it. */
export class CappedOutput {
  text = "";
  truncated = false;
  constructor(private readonly limit: number) {}
  /** Appends what fits; false once the limit is reached. */
  write(chunk: string): boolean {
    const room = this.limit - this.text.length;
    if (chunk.length > room) {
      this.text += chunk.slice(0, Math.max(0, room));
      this.truncated = true;
      return false;
    }
    this.text += chunk;
    return true;
  }
}
