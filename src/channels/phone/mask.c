/*
 * Card numbers out of call transcripts (phone.h): a caller reading out a
 * card number to the voicemail must not have it stored, or sent to an LLM.
 */
#include <ctype.h>
#include <string.h>

#include "phone.h"
#include "util/util.h"

static bool luhn(const char *digits, size_t n)
{
	int sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int d = digits[n - 1 - i] - '0';

		if (i % 2) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

char *phone_mask_cards(const char *text)
{
	char *out = fl_strdup(text ? text : "");
	size_t len = strlen(out), i = 0;

	while (i < len) {
		char digits[20];
		size_t j = i, nd = 0, last = i, k;

		if (!isdigit((unsigned char)out[i]) || (i > 0 && isdigit((unsigned char)out[i - 1]))) {
			i++;
			continue;
		}
		/* the longest run of digits with single spaces or hyphens between them */
		while (j < len && nd < 20) {
			if (isdigit((unsigned char)out[j])) {
				if (nd < sizeof(digits))
					digits[nd] = out[j];
				nd++;
				last = j;
				j++;
			} else if ((out[j] == ' ' || out[j] == '-') && j + 1 < len && isdigit((unsigned char)out[j + 1])) {
				j++;
			} else {
				break;
			}
		}
		if (nd >= 13 && nd <= 19 && luhn(digits, nd)) {
			size_t seen = 0;

			for (k = i; k <= last; k++)
				if (isdigit((unsigned char)out[k]) && seen++ < nd - 4)
					out[k] = '*';
		}
		i = last + 1;
	}
	return out;
}
