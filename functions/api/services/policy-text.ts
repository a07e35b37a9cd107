/**
 * The form of a prompt that policies compare: what a reader sees, not how it was typed. Without
 * it a zero-width space (`nu\u200Bde`), a soft hyphen or a Cyrillic "е" in place of a Latin "e"
 * walks a word past any list, while a reader (and often the model) still sees the word.
 */

// Format characters (Cf: zero-width space/joiners, soft hyphen, word joiner, bidi controls, BOM,
// tags) and the invisible letters that are not Cf: the Hangul fillers and the braille blank.
// Variation selectors and the combining grapheme joiner are marks: MARKS drops them.
const INVISIBLE = /\p{Cf}|\u115F|\u1160|\u3164|\uFFA0|\u2800/gu;

// Diacritics and other combining marks, once decomposed: "n̶u̶d̶e̶" and "nüde" read as "nude".
const MARKS = /\p{M}/gu;

/**
 * Cyrillic and Greek letters that look like Latin ones (the common part of Unicode's
 * confusables table for these scripts), both cases: LOOKALIKES[i] reads as LATIN[i].
 */
const LOOKALIKES = 'АВЕЅІЈКМНОРСТХҮҺԀԚԜӀавеѕіјкмнорстхүһԁԛԝӏ' + 'ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαικνορτυχϲϳ';
const LATIN = 'abesijkmhopctxyhdqwlabesijkmhopctxyhdqwl' + 'abezhikmnoptyxaikvoptuxcj';
const TO_LATIN = new Map(Array.from(LOOKALIKES, (ch, i) => [ch, LATIN[i] ?? ch]));
const CONFUSABLE = new RegExp(`[${LOOKALIKES}]`, 'gu');

/**
 * NFKC (full-width and compatibility forms), invisible characters removed, marks dropped,
 * Cyrillic/Greek look-alikes folded to Latin, lower case. Policies compare this form; the
 * model still gets the prompt as sent.
 */
export function foldForPolicy(text: string): string {
  return text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .normalize('NFD')
    .replace(MARKS, '')
    .replace(CONFUSABLE, (ch) => TO_LATIN.get(ch) ?? ch)
    .toLowerCase()
    .normalize('NFC');
}
