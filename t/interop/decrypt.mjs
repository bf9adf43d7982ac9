// Opens a spotauth session cookie with the `jose` library, given the key
// file: proof that the cookie is a standard compact JWE (dir + A256GCM).
// usage: node decrypt.mjs KEY_FILE COOKIE  -> prints {"header":..,"claims":..}
import { readFileSync } from 'node:fs';
import { compactDecrypt } from 'jose';

const [keyFile, cookie] = process.argv.slice(2);
const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
const { plaintext, protectedHeader } = await compactDecrypt(cookie, new Uint8Array(key));
console.log(JSON.stringify({ header: protectedHeader, claims: JSON.parse(new TextDecoder().decode(plaintext)) }));
