/** The RFC 6962 tree against its 8-leaf test data, the spec's edge cases, and sizes past 2^53. */
import { describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, leafHash, memoryTree, nodeHash, treeRoot, verifyConsistency, verifyInclusion, type NodeReader } from '../../src/audit/merkle.js';

const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(Buffer.from(h, 'hex')));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const prefix = (n: number) => memoryTree(leaves.slice(0, n));

// RFC 6962's test data, as transparency-dev/merkle and certificate-transparency keep it.
const roots = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const inclusion: [number, number, string[]][] = [
  [0, 1, []],
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
const consistency: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];

describe('the RFC 6962 Merkle tree', () => {
  it('has the roots of the 8-leaf test data at every size 0–8', async () => {
    for (let n = 0; n <= 8; n += 1) expect(hex(await treeRoot(prefix(n), BigInt(n)))).toBe(roots[n]);
  });

  it('makes and verifies the test data inclusion proofs', async () => {
    for (const [index, size, path] of inclusion) {
      const proof = await inclusionProof(prefix(size), BigInt(index), BigInt(size));
      expect(proof.map(hex)).toEqual(path);
      expect(verifyInclusion(leaves[index]!, BigInt(index), BigInt(size), proof, unhex(roots[size]!))).toBe(true);
    }
  });

  it('makes and verifies the test data consistency proofs', async () => {
    for (const [from, to, path] of consistency) {
      const proof = await consistencyProof(prefix(to), BigInt(from), BigInt(to));
      expect(proof.map(hex)).toEqual(path);
      expect(verifyConsistency(BigInt(from), BigInt(to), proof, unhex(roots[from]!), unhex(roots[to]!))).toBe(true);
    }
  });

  it('verifies every proof of every size up to 8, and refuses each one altered', async () => {
    for (let n = 1; n <= 8; n += 1) {
      const root = unhex(roots[n]!);
      for (let m = 0; m < n; m += 1) {
        const proof = await inclusionProof(prefix(n), BigInt(m), BigInt(n));
        expect(verifyInclusion(leaves[m]!, BigInt(m), BigInt(n), proof, root)).toBe(true);
        expect(verifyInclusion(leaves[(m + 1) % 8]!, BigInt(m), BigInt(n), proof, root)).toBe(false); // another leaf
        if (proof.length) {
          const tampered = proof.map((p, i) => (i === 0 ? p.map((b, j) => (j === 0 ? b ^ 1 : b)) : p));
          expect(verifyInclusion(leaves[m]!, BigInt(m), BigInt(n), tampered, root)).toBe(false); // a tampered sibling
          expect(verifyInclusion(leaves[m]!, BigInt(m), BigInt(n), proof.slice(0, -1), root)).toBe(false); // truncated
        }
        expect(verifyInclusion(leaves[m]!, BigInt(m), BigInt(n), [...proof, root], root)).toBe(false); // extended
        if (n < 8) expect(verifyInclusion(leaves[m]!, BigInt(m), BigInt(n + 1), proof, unhex(roots[n + 1]!))).toBe(false); // wrong size
      }
      for (let m = 1; m < n; m += 1) {
        const proof = await consistencyProof(prefix(n), BigInt(m), BigInt(n));
        expect(verifyConsistency(BigInt(m), BigInt(n), proof, unhex(roots[m]!), root)).toBe(true);
        expect(verifyConsistency(BigInt(m), BigInt(n), proof.slice(1), unhex(roots[m]!), root)).toBe(false);
        expect(verifyConsistency(BigInt(m), BigInt(n), proof, unhex(roots[m - 1]!), root)).toBe(false);
      }
    }
  });

  it('refuses an index out of range and a proof against a size it does not fit', async () => {
    await expect(inclusionProof(prefix(8), 8n, 8n)).rejects.toThrow(/outside/);
    await expect(consistencyProof(prefix(8), 9n, 8n)).rejects.toThrow(/cannot prove/);
    expect(verifyInclusion(leaves[0]!, 8n, 8n, [], unhex(roots[8]!))).toBe(false);
    expect(verifyInclusion(leaves[0]!, 0n, 1n, [], unhex(roots[1]!))).toBe(true); // one leaf: the leaf is the root
  });

  it('works past 2^53 entries, with indices as BigInt', async () => {
    // A tree too large to hold, of one leaf repeated: every complete subtree of a height has one hash.
    const byLevel = [leafHash(new TextEncoder().encode('entry'))];
    for (let level = 1; level < 64; level += 1) byLevel.push(nodeHash(byLevel[level - 1]!, byLevel[level - 1]!));
    const synthetic: NodeReader = async (level) => byLevel[level]!;
    const size = 2n ** 60n + 12_345n;
    const index = 2n ** 60n + 7n;
    const root = await treeRoot(synthetic, size);
    const proof = await inclusionProof(synthetic, index, size);
    expect(proof.length).toBeLessThanOrEqual(61);
    expect(verifyInclusion(await synthetic(0, index), index, size, proof, root)).toBe(true);
    const flipped = proof.map((p, i) => (i === proof.length - 1 ? p.map((b, j) => (j === 0 ? b ^ 1 : b)) : p));
    expect(verifyInclusion(await synthetic(0, index), index, size, flipped, root)).toBe(false);
    const older = 2n ** 53n + 1n;
    const consistent = await consistencyProof(synthetic, older, size);
    expect(verifyConsistency(older, size, consistent, await treeRoot(synthetic, older), root)).toBe(true);
  });
});
