// Opens a spotauth session cookie with the `jose` library, given the key
// file and the client id: proof that the cookie is a standard compact JWE
// (dir + A256GCM). The server's key is the key file's bound to its client id
// with HKDF-SHA256 (empty salt, info "spotauth client key v1:" + client id;
// docs/security.md), derived here with Node's own crypto.
// usage: node decrypt.mjs KEY_FILE CLIENT_ID COOKIE  -> prints {"header":..,"claims":..}
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactDecrypt } from 'jose';

const [keyFile, clientId, cookie] = process.argv.slice(2);
const fileKey = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
const key = hkdfSync('sha256', fileKey, Buffer.alloc(0), `spotauth client key v1:${clientId}`, 32);
const { plaintext, protectedHeader } = await compactDecrypt(cookie, new Uint8Array(key));
console.log(JSON.stringify({ header: protectedHeader, claims: JSON.parse(new TextDecoder().decode(plaintext)) }));
