/** Signed notes and checkpoints, byte for byte as C2SP writes them. */
import { describe, expect, it } from 'vitest';
import { checkpointText, cosigner, ed25519PrivateKey, noteSigner, openNote, parseCheckpoint, parseVerifierKey, signNote } from '../../src/audit/note.js';

const root = Buffer.from('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328', 'hex');
const briefNote = [
  'audit.example/log1',
  '8',
  'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=',
  '',
  '— audit.example/log1 csPQM00QXIKRWu6OgtitDcyKHcNeOfNwebpWURLJGFFHX/ntOt409GogFdE43QpT4WtHyhdJhca4zyHpa8Yo7e4DIgA=',
  '',
].join('\n');

describe('C2SP signed notes', () => {
  const signer = noteSigner('audit.example/log1', ed25519PrivateKey(new Uint8Array(32).fill(1)));

  it('reproduces the brief vector byte for byte: vkey, checkpoint and signature', () => {
    expect(signer.vkey).toBe('audit.example/log1+72c3d033+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c');
    expect(signNote(checkpointText({ origin: 'audit.example/log1', size: 8n, root }), signer)).toBe(briefNote);
    const { text, verifiedBy } = openNote(briefNote, [parseVerifierKey(signer.vkey)]);
    expect(verifiedBy).toEqual(['audit.example/log1']);
    expect(parseCheckpoint(text)).toEqual({ origin: 'audit.example/log1', size: 8n, root: new Uint8Array(root) });
  });

  it("reads the spec's example verifier key", () => {
    expect(parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k').name).toBe('example.com/foo');
    expect(() => parseVerifierKey('example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')).toThrow(/key id/);
  });

  it('refuses a changed text, a failing known signature, and a note no known key signed; ignores unknown keys', () => {
    const verifier = parseVerifierKey(signer.vkey);
    expect(() => openNote(briefNote.replace('\n8\n', '\n9\n'), [verifier])).toThrow(/does not verify/);
    const other = noteSigner('other.example/log', ed25519PrivateKey(new Uint8Array(32).fill(3)));
    expect(() => openNote(briefNote, [parseVerifierKey(other.vkey)])).toThrow(/no known key/);
    const withUnknown = `${briefNote}— stranger.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n`;
    expect(openNote(withUnknown, [verifier]).verifiedBy).toEqual(['audit.example/log1']);
    expect(() => openNote('no blank line\n', [verifier])).toThrow(/not a signed note/);
    const flood = briefNote + '— x AAAAAAAA\n'.repeat(70);
    expect(() => openNote(flood, [verifier])).toThrow(/more than 64/);
  });

  it('verifies a witness cosignature (tlog-cosignature, type 0x04) over the checkpoint at its time', () => {
    const witness = cosigner('witness.example/w1', ed25519PrivateKey(new Uint8Array(32).fill(2)));
    const body = checkpointText({ origin: 'audit.example/log1', size: 8n, root });
    const line = witness.cosign(body, 1_700_000_000n);
    const verifiers = [parseVerifierKey(signer.vkey), parseVerifierKey(witness.vkey)];
    expect(openNote(briefNote + line, verifiers).verifiedBy).toEqual(['audit.example/log1', 'witness.example/w1']);
    const moved = witness.cosign(checkpointText({ origin: 'audit.example/log1', size: 9n, root }), 1_700_000_000n);
    expect(() => openNote(briefNote + moved, verifiers)).toThrow(/witness.example\/w1 does not verify/);
  });

  it('reads verifier keys whose base64 holds plus signs', () => {
    for (let seed = 1; seed < 40; seed += 1) {
      const key = noteSigner('log.example', ed25519PrivateKey(new Uint8Array(32).fill(seed)));
      expect(parseVerifierKey(key.vkey).name).toBe('log.example');
    }
  });

  it('refuses malformed checkpoints', () => {
    expect(() => parseCheckpoint('o\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n')).toThrow(/decimal/);
    expect(() => parseCheckpoint('o\n8\nnot-base64\n')).toThrow(/root/);
  });
});
