/**
 * The limits every platform payload shares, and the one helper that makes a payload fit them.
 *
 * APNs and FCM each reject a payload over 4096 bytes (aws-notes.md §1.7). The budget is measured on
 * the serialized provider payload (the APNs JSON, the FCM `fcmV1Message` JSON), not on the SNS
 * envelope, which escapes it once more.
 */
export const PUSH_PAYLOAD_LIMIT_BYTES = 4096;

/**
 * How long APNs and FCM keep trying an offline device. Without it SNS falls back to the provider's
 * default, then its own 4 weeks (aws-notes.md §1.4, TTL); a day-old alert is rarely still useful.
 */
export const DEFAULT_PUSH_TTL_SECONDS = 86_400;

/** Appended to a shortened text; 3 bytes in UTF-8. */
export const ELLIPSIS = '…';

export type BudgetTexts<K extends string> = Readonly<Partial<Record<K, string>>>;

export interface FitToBudgetInput<K extends string, D extends string> {
  /**
   * Serializes the payload from the texts as given (possibly shortened) and without the parts in
   * `dropped`. It must be pure, and a shorter text must never give a longer result.
   */
  readonly render: (texts: BudgetTexts<K>, dropped: ReadonlySet<D>) => string;
  /** The free texts the budget may shorten, by name (an absent or empty text is left alone). */
  readonly texts: BudgetTexts<K>;
  /** The order texts are shortened in: Herald passes body, then subtitle, then title. */
  readonly shortenOrder: readonly K[];
  /**
   * Last resort, only when every text at its shortest still does not fit: optional parts `render`
   * may leave out, dropped cumulatively in this order (fewest drops that fit win). Default: none.
   */
  readonly dropOrder?: readonly D[];
  /** Default: {@link PUSH_PAYLOAD_LIMIT_BYTES}. */
  readonly limitBytes?: number;
}

export interface FitToBudgetResult {
  /** The rendering that fits (or, if nothing can make it fit, the smallest one). */
  readonly serialized: string;
  /** True when a text was shortened or a part was dropped. */
  readonly truncated: boolean;
}

/**
 * Shortens a payload until `Buffer.byteLength(serialized, 'utf8') <= limitBytes`; a notification
 * is never dropped. The order, each step taken only when the previous ones cannot make it fit:
 *
 * 1. the texts as given;
 * 2. each text in `shortenOrder` (body, subtitle, title) cut to the longest code-point prefix that
 *    fits, plus "…". The next text is touched only once the previous one is down to "…";
 * 3. the parts in `dropOrder` (Herald: tags, then actions, then the image, the tap URL, and the
 *    copies of the group and collapse ids), dropped cumulatively: the first prefix of the list with
 *    which every text at "…" fits is dropped, then step 2 runs again from the original texts, so the
 *    body keeps whatever room the drops freed.
 *
 * If nothing fits even then (impossible within the model's LIMITS, see the property tests), the
 * smallest rendering is returned with `truncated: true` and the provider rejects it.
 */
export function fitToBudget<K extends string, D extends string = never>(
  input: FitToBudgetInput<K, D>,
): FitToBudgetResult {
  const { render, texts, shortenOrder, dropOrder = [], limitBytes = PUSH_PAYLOAD_LIMIT_BYTES } = input;
  const fits = (serialized: string) => Buffer.byteLength(serialized, 'utf8') <= limitBytes;

  const whole = render(texts, new Set());
  if (fits(whole)) return { serialized: whole, truncated: false };

  const shortest = { ...texts } as Partial<Record<K, string>>;
  for (const key of shortenOrder) shortest[key] = shortestForm(texts[key]);

  let dropped = new Set<D>();
  for (let count = 0; count <= dropOrder.length; count++) {
    dropped = new Set(dropOrder.slice(0, count));
    if (fits(render(shortest, dropped))) break;
  }

  const current = { ...texts } as Partial<Record<K, string>>;
  for (const key of shortenOrder) {
    const serialized = render(current, dropped);
    if (fits(serialized)) return { serialized, truncated: true };
    current[key] = longestFittingPrefix(texts[key], (candidate) =>
      fits(render({ ...current, [key]: candidate }, dropped)),
    );
  }
  return { serialized: render(current, dropped), truncated: true };
}

/**
 * Cuts `text` to at most `maxCodePoints` code points, the last one being "…" when it was cut.
 * Never splits a surrogate pair.
 */
export function shortenText(text: string, maxCodePoints: number): string {
  const codePoints = Array.from(text);
  if (codePoints.length <= maxCodePoints) return text;
  return withEllipsis(codePoints, Math.max(0, maxCodePoints - 1));
}

/**
 * The longest `prefix + "…"` of `text` that `fits`, by binary search on code points; "…" alone
 * when none does. A text of one code point or less is returned unchanged: "…" would not be shorter.
 */
function longestFittingPrefix(text: string | undefined, fits: (candidate: string) => boolean) {
  if (text === undefined) return undefined;
  const codePoints = Array.from(text);
  if (codePoints.length <= 1) return text;
  // Invariant: a prefix of `low` code points fits (or low is 0), one of `high + 1` does not.
  let low = 0;
  let high = codePoints.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(withEllipsis(codePoints, middle))) low = middle;
    else high = middle - 1;
  }
  return withEllipsis(codePoints, low);
}

function shortestForm(text: string | undefined): string | undefined {
  return text === undefined || Array.from(text).length <= 1 ? text : ELLIPSIS;
}

/** Trailing whitespace is trimmed so a cut reads "word…", not "word …". */
function withEllipsis(codePoints: readonly string[], count: number): string {
  return codePoints.slice(0, count).join('').trimEnd() + ELLIPSIS;
}
