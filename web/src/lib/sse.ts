// Incremental parser for text/event-stream (WHATWG HTML §9.2). Bytes arrive in arbitrary
// chunks; lines may be split anywhere, including between \r and \n. Pure: no DOM, no I/O.

export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Upper bound on one buffered line or event; a stream that exceeds it is rejected. */
export const kMaxEventBytes = 1 << 20;

export class SseParser {
  private buf = '';
  private data: string[] = [];
  private dataBytes = 0;
  private event = '';
  private id: string | null = null;
  private skipLf = false;

  /** Feeds decoded text; returns the events completed by it. Throws on an oversized event. */
  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLf = false;
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buf.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buf.length) {
          if (this.buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLf = true;  // a \n may follow in the next chunk
        }
      }
      start = i + 1;
      this.line(line, out);
    }
    this.buf = this.buf.slice(start);
    if (this.buf.length > kMaxEventBytes) throw new Error('event stream line too long');
    return out;
  }

  /** Ends the stream: a final event without its blank line is discarded, as the spec says. */
  end(): void {
    this.buf = '';
    this.data = [];
    this.dataBytes = 0;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      }
      this.data = [];
      this.dataBytes = 0;
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;  // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataBytes += value.length;
        if (this.dataBytes > kMaxEventBytes) throw new Error('event stream event too large');
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default:
        break;  // retry and unknown fields are ignored
    }
  }
}
