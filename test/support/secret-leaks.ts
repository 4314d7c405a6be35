// What a log line must never hold: any 8 or more characters in a row of a secret, as written or in the encodings code
// tends to produce (hex, base64, base64url, percent-encoding), and any credential a request carried (an
// Authorization header's value, an OAuth 1.0a parameter such as oauth_signature). Used on every line a test captured.
import { randomInt } from 'node:crypto';

/** The shortest run of a secret's characters that counts as a leak. */
export const MIN_LEAK_CHARS = 8;

/** A random alphanumeric string: every 8-character piece of it is distinctive, so a partial leak is unmistakable. */
export function distinctiveSecret(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** One way a secret's piece can be written in a log, and the piece as written. */
type Needle = { what: string; text: string };

/** Every `width`-long piece of `text`, starting at each multiple of `step`. */
function pieces(text: string, width: number, step = 1): string[] {
  const out: string[] = [];
  for (let at = 0; at + width <= text.length; at += step) out.push(text.slice(at, at + width));
  return out;
}

const hexEncodings = (bytes: Buffer) => [bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
const percentEveryByte = (bytes: Buffer) => {
  const lower = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  return [lower, lower.toUpperCase()];
};

/**
 * The needles for one secret. Hex and percent-encoding write each byte on its own, so the encoding of every 8-byte
 * piece is a needle. Base64 writes bytes in groups of three, so how a piece is written depends on where it falls in
 * the encoded text: for each of the three alignments, any 8 bytes leaked contain two whole aligned groups (6 bytes,
 * 8 characters), which are an aligned 8-character piece of the secret's own encoding from that alignment.
 */
function needlesFor(name: string, value: string | Buffer): Needle[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const needles: Needle[] = [];
  if (typeof value === 'string') {
    for (const piece of pieces(value, MIN_LEAK_CHARS)) {
      needles.push({ what: `${name} (8+ characters of it)`, text: piece });
      needles.push({ what: `${name} (percent-encoded)`, text: encodeURIComponent(piece) });
    }
  }
  for (const piece of pieces(bytes.toString('latin1'), MIN_LEAK_CHARS)) {
    const pieceBytes = Buffer.from(piece, 'latin1');
    for (const text of hexEncodings(pieceBytes)) needles.push({ what: `${name} (hex)`, text });
    for (const text of percentEveryByte(pieceBytes)) needles.push({ what: `${name} (percent-encoded bytes)`, text });
  }
  for (let shift = 0; shift < 3; shift++) {
    const whole = bytes.subarray(shift, shift + Math.floor((bytes.length - shift) / 3) * 3);
    for (const encoding of ['base64', 'base64url'] as const) {
      for (const text of pieces(whole.toString(encoding), 8, 4)) needles.push({ what: `${name} (${encoding})`, text });
    }
  }
  return needles;
}

/**
 * Credentials as a request carries them: a scheme and a value of 8 or more characters (the API's own error message
 * says "Bearer token"), a header object's authorization field, and OAuth 1.0a's signed parameters.
 */
const CREDENTIAL_PATTERNS: [string, RegExp][] = [
  ['an Authorization header value', /\b(?:Bearer|Basic)\s+(?!token\b)[\w.~+/=-]{8,}|\bOAuth\s+oauth_/],
  ['an authorization header', /["']?authorization["']?\s*[:=]\s*["'[{]/i],
  ['an OAuth 1.0a parameter', /\boauth_(?:signature|token|consumer_key|nonce)\b/i],
];

export type Leak = { what: string; line: string };

export type LeakScanner = {
  /** How many distinct pieces are searched for. */
  readonly needleCount: number;
  /** Every leak in `text`, line by line, with the line around it. */
  scan(text: string): Leak[];
};

/**
 * A scanner for these secrets (name → value; a Buffer is a key's raw bytes, searched in its encodings only). Only the
 * secret part of a value belongs here: a public prefix, such as the user id X puts at the start of an access token,
 * would match every log line that names that user.
 */
export function secretLeakScanner(secrets: Record<string, string | Buffer>): LeakScanner {
  const byHead = new Map<string, Needle[]>();
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(secrets)) {
    for (const needle of needlesFor(name, value)) {
      if (seen.has(needle.text)) continue;
      seen.add(needle.text);
      const head = needle.text.slice(0, MIN_LEAK_CHARS);
      byHead.set(head, [...(byHead.get(head) ?? []), needle]);
    }
  }
  return {
    needleCount: seen.size,
    scan(text) {
      const leaks: Leak[] = [];
      for (const line of text.split('\n')) {
        const around = (at: number) => line.slice(Math.max(0, at - 120), at + 200);
        for (const [what, pattern] of CREDENTIAL_PATTERNS) {
          const match = pattern.exec(line);
          if (match) leaks.push({ what, line: around(match.index) });
        }
        // Every needle is at least 8 characters: look each 8-character piece of the line up by its start.
        for (let at = 0; at + MIN_LEAK_CHARS <= line.length; at++) {
          const found = byHead.get(line.slice(at, at + MIN_LEAK_CHARS))?.find((needle) => line.startsWith(needle.text, at));
          if (found) {
            leaks.push({ what: found.what, line: around(at) });
            break;
          }
        }
      }
      return leaks;
    },
  };
}
