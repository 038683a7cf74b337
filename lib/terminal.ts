// The bottom of a terminal as a live region: a block of lines redrawn in place (the progress block), and lines
// printed above it (log records), so that neither tears the other apart. One region per stream, shared by the
// logger and the progress display, since both write to stderr.

export interface TerminalStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface LiveRegion {
  /** Writes a line above the block: the block is erased, the line written, the block drawn again under it. */
  print(line: string): void;
  /** Replaces the block's lines. The block keeps its height so lines no longer used are cleared, not left behind. */
  render(lines: readonly string[]): void;
  /** Erases the block and leaves the cursor where it began, for what is printed after the live display. */
  clear(): void;
}

/** ANSI: move to the start of the line `n` lines up, clear a line, clear to the end of the screen. */
const up = (n: number) => (n > 0 ? `\x1b[${n}F` : '');
const CLEAR_LINE = '\x1b[2K';
const CLEAR_DOWN = '\x1b[0J';

/** A block line wider than the terminal would wrap, and the next redraw would move up too few lines. */
function fitLine(line: string, columns: number | undefined): string {
  if (!columns || line.length < columns) return line;
  return `${line.slice(0, Math.max(1, columns - 2))}…`;
}

function createRegion(stream: TerminalStream): LiveRegion {
  let block: readonly string[] = [];
  let drawn = 0;
  const blockText = () => block.map((l) => `${CLEAR_LINE}${fitLine(l, stream.columns)}\n`).join('');
  return {
    print(line) {
      const text = line.endsWith('\n') ? line : `${line}\n`;
      stream.write(`${up(drawn)}${CLEAR_DOWN}${text}${blockText()}`);
      drawn = block.length;
    },
    render(lines) {
      block = [...lines];
      stream.write(up(drawn) + blockText() + `${CLEAR_LINE}\n`.repeat(Math.max(0, drawn - block.length)));
      drawn = Math.max(drawn, block.length);
    },
    clear() {
      block = [];
      if (drawn > 0) stream.write(`${up(drawn)}${CLEAR_DOWN}`);
      drawn = 0;
    },
  };
}

const regions = new WeakMap<object, LiveRegion>();

export function liveRegion(stream: TerminalStream): LiveRegion {
  let region = regions.get(stream);
  if (!region) {
    region = createRegion(stream);
    regions.set(stream, region);
  }
  return region;
}
