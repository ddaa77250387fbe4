/**
 * @module cli/commands/keys
 * The trust chain: `keys show` (root, active signing key, keyset), `keys rotate` (a new signing
 * key; with --root-key the pending keyset is signed here, where the offline root lives, and sent
 * back) and `keys init-root` (a root key pair for a server run with --root-public-key; needs no
 * server).
 */
import { existsSync } from 'node:fs';
import { KEYSET_PAYLOAD_TYPE, keyId, peekKeyset, signKeysetPayload } from '@edgeloop/protocol';
import { CliError } from '../api-client.js';
import {
  UsageError,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { formatTimestamp } from '../format.js';
import { createKeyFile, readKeyFile } from '../../keys/signing-key.js';

async function showKeys({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'keys show');
  const body = await connect().getKeys();
  if (flags.json) return printJson(io, body);
  io.out(
    [
      `root key      ${body.root.keyId} (${body.root.local ? 'private half on the server' : 'offline: the server has only the public half'})`,
      `  public      ${body.root.publicKey}   ← devices list this in fleet.trustedKeys`,
      `signing key   ${body.signingKey ? `${body.signingKey.keyId}${body.signingKey.activatedAt ? `, active since ${formatTimestamp(body.signingKey.activatedAt)}` : ''}` : 'none yet: sign the first keyset with "edgeloop keys rotate --root-key FILE"'}`,
      `keyset        ${body.keyset ? `v${body.keyset.version}, lists ${body.keyset.keyIds.join(', ')}` : 'none'}`,
      ...(body.pending
        ? [
            `pending       key ${body.pending.keyId} for keyset v${body.pending.version}: sign it with "edgeloop keys rotate --root-key FILE"`,
          ]
        : []),
      ...(body.retired.length
        ? [`retired       ${body.retired.map((r) => r.keyId).join(', ')} (manifests they signed are refused)`]
        : []),
    ].join('\n'),
  );
}

async function rotate({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'keys rotate');
  const rootPath = stringFlag(flags, 'root-key');
  // Read the root first: a wrong path must not leave a half-started rotation behind.
  let root;
  try {
    root = rootPath === undefined ? undefined : readKeyFile(rootPath);
  } catch (err) {
    throw new CliError(`--root-key: ${(err as Error).message}`);
  }
  const client = connect();
  let result = await client.rotateKeys();
  if (result.state === 'pending') {
    const pending = result.pending!;
    if (!root) {
      if (flags.json) return printJson(io, result);
      io.out(
        `new signing key ${pending.keyId} waits for keyset v${pending.version} to be signed by the offline root key.`,
      );
      io.out(
        'run this where the root key is: edgeloop keys rotate --root-key <root.key> (it signs the pending keyset and uploads it)',
      );
      return;
    }
    if (pending.payloadType !== KEYSET_PAYLOAD_TYPE)
      throw new CliError(
        `the server sent an unexpected payload type "${pending.payloadType}"; is it a compatible version?`,
      );
    const keyset = peekKeyset({
      payloadType: pending.payloadType,
      payload: pending.payload,
      signatures: [{ keyid: root.keyId, sig: '' }],
    });
    if (!keyset || keyset.keys.length !== 1 || keyset.keys[0]!.keyid !== pending.keyId) {
      throw new CliError(
        'the pending keyset does not list exactly the pending key; refusing to sign it (check the server)',
      );
    }
    result = await client.uploadKeyset({ body: { envelope: signKeysetPayload(pending.payload, root) } });
  } else if (root) {
    io.err('note: the server holds its root key itself; --root-key was not needed');
  }
  if (flags.json) return printJson(io, result);
  io.out(
    `rotated: keyset v${result.keyset?.version} lists ${result.keyset?.keyIds.join(', ')}; ${result.resigned ?? 0} manifest(s) re-signed, ${result.devices ?? 0} device(s) updated`,
  );
}

async function initRoot({ operands, flags, io }: CommandContext): Promise<void> {
  rejectOperands(operands, 'keys init-root');
  const out = stringFlag(flags, 'out');
  if (!out) throw new UsageError('keys init-root needs --out FILE (where the root secret key is written, 0600)');
  if (existsSync(out)) throw new CliError(`${out} already exists; refusing to overwrite a key (choose another --out)`);
  const key = createKeyFile(out);
  if (flags.json) return printJson(io, { keyId: key.keyId, publicKey: key.publicKeyBase64, path: out });
  io.out(`root key ${keyId(key.publicKey)} written to ${out} (0600); keep it offline.`);
  io.out(`public key: ${key.publicKeyBase64}`);
  io.out(`run the server with: edgeloop serve --root-public-key ${key.publicKeyBase64}`);
  io.out(
    'devices list the public key in fleet.trustedKeys; then sign the first keyset: edgeloop keys rotate --root-key FILE',
  );
}

export const keyCommands: CommandTable = {
  'keys show': { summary: 'root key, active signing key and keyset version', run: showKeys },
  'keys rotate': {
    synopsis: '[--root-key FILE]',
    summary: 'new signing key; manifests re-signed, devices told (an offline root signs with --root-key)',
    options: { 'root-key': { type: 'string' } },
    run: rotate,
  },
  'keys init-root': {
    synopsis: '--out FILE',
    summary: 'create a root key pair for an offline root (no server needed)',
    options: { out: { type: 'string' } },
    run: initRoot,
  },
};
