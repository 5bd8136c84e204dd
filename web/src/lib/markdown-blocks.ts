// Splits streamed markdown into completed blocks and an open tail, so completed blocks are
// rendered once and never again while tokens keep arriving (ux.md §5.5). Pure.

export interface BlockSplit {
  /** Blocks that can no longer change as more text arrives. */
  done: string[];
  /** The still-open remainder (rendered cheaply and replaced on every flush). */
  tail: string;
}

const kFence = /^ {0,3}(`{3,}|~{3,})/;

export function splitBlocks(text: string): BlockSplit {
  const lines = text.split('\n');
  // The last line has no newline yet: it is part of the tail whatever it holds.
  const complete = lines.slice(0, -1);
  const done: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  for (const line of complete) {
    const m = kFence.exec(line);
    if (fence === null) {
      if (m) {
        if (current.length > 0 && current.some((l) => l.trim() !== '')) {
          done.push(current.join('\n'));
          current = [];
        }
        fence = m[1];
        current.push(line);
        continue;
      }
      if (line.trim() === '') {
        if (current.some((l) => l.trim() !== '')) done.push(current.join('\n'));
        current = [];
        continue;
      }
      current.push(line);
    } else {
      current.push(line);
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) {
        done.push(current.join('\n'));
        current = [];
        fence = null;
      }
    }
  }
  current.push(lines[lines.length - 1]);
  return { done, tail: current.join('\n') };
}

/**
 * Holds back a trailing, half-typed fence marker ("`" or "``" at the start of the last line) so
 * a paragraph does not flip into a code block and back while the marker is being typed.
 */
export function stableTail(tail: string): string {
  const nl = tail.lastIndexOf('\n');
  const last = tail.slice(nl + 1);
  if (/^ {0,3}(`{1,2}|~{1,2})$/.test(last)) return tail.slice(0, nl + 1);
  return tail;
}
