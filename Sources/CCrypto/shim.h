#ifndef MOM_CCRYPTO_SHIM_H
#define MOM_CCRYPTO_SHIM_H
// libcrypto only: HMAC-SHA256, PBKDF2, constant-time compare, random bytes.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#endif
