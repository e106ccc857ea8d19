/*
 * Per-ticket secrets: what makes our subject tags and Message-IDs
 * unforgeable from a ticket's number (numbers are sequential; anyone could
 * write "[Frontline #T-000008]"). A ticket's secret is the HMAC of its id
 * under a key of the server's (store_secret_get("email.threads"): random,
 * made on first use and kept in the store, so every replica computes the
 * same), cut to 50 bits and written as 10 base32 characters:
 * "[Frontline #T-000042-k3q9x7m2ab]", "frontline.T-000042.k3q9x7m2ab.o17@domain".
 *
 * Why 50 bits: the key never leaves the store, so a secret can only be
 * guessed online, one email per guess, each one stored and visible. At a
 * million forged messages the chance of one right guess is about 1 in a
 * billion (2^-50 * 10^6), and a right guess only puts a message awaiting an
 * agent's approval into the thread: it never changes who gets the replies.
 * Ten characters keep the subject tag short.
 *
 * What it leaves to others: which key says what (intake.c), writing the tag
 * and the Message-ID (thread.c, compose.c, outbox.c).
 */
#include <sodium.h>
#include <string.h>

#include "email_int.h"
#include "store/store.h"

#define KEY_NAME "email.threads"

_Static_assert(crypto_auth_KEYBYTES == 32, "HMAC-SHA-512-256 takes a 32-byte key");

/* The secret of ticket_id into out; a store error code. */
static int ticket_secret(struct store *st, const char *ticket_id, char out[EMAIL_SECRET_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char key[crypto_auth_KEYBYTES], mac[crypto_auth_BYTES];
	uint64_t bits = 0;
	int i, rc;

	out[0] = '\0';
	rc = store_secret_get(st, KEY_NAME, key, sizeof(key));
	if (rc != STORE_OK)
		return rc;
	crypto_auth(mac, (const unsigned char *)ticket_id, strlen(ticket_id), key);
	sodium_memzero(key, sizeof(key));
	for (i = 0; i < 7; i++)
		bits = bits << 8 | mac[i];
	bits >>= 56 - 5 * EMAIL_SECRET_LEN;   /* the first 50 bits */
	for (i = EMAIL_SECRET_LEN - 1; i >= 0; i--) {
		out[i] = alphabet[bits & 31];
		bits >>= 5;
	}
	out[EMAIL_SECRET_LEN] = '\0';
	sodium_memzero(mac, sizeof(mac));
	return STORE_OK;
}

int email_ticket_secret(struct store *st, const char *ticket_id, char out[EMAIL_SECRET_LEN + 1])
{
	int rc;

	out[0] = '\0';
	if (!ticket_id || !*ticket_id)
		return EMAIL_EINVAL;
	rc = ticket_secret(st, ticket_id, out);
	if (rc != STORE_OK)
		return store_err_is_transient(rc) ? EMAIL_ETEMP : EMAIL_ESTORE;
	return EMAIL_OK;
}

int email__secret_check(struct store *st, const char *ticket_id, const char *secret, bool *valid)
{
	char want[EMAIL_SECRET_LEN + 1];
	int rc;

	*valid = false;
	if (!secret || strlen(secret) != EMAIL_SECRET_LEN || !ticket_id || !*ticket_id)
		return STORE_OK;
	rc = ticket_secret(st, ticket_id, want);
	if (rc == STORE_OK)
		*valid = sodium_memcmp(want, secret, EMAIL_SECRET_LEN) == 0;
	return rc;
}
