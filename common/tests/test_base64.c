/* Unit tests for base64: RFC 4648 vectors, round trips, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/base64.h"

static void
test_rfc4648_vectors_encode_and_decode(void **state)
{
	const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy" };
	char out[64];
	char back[64];

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_int_equal(base64_encoded_len(strlen(plain[i])),
		    strlen(coded[i]));
		assert_string_equal(base64_encode(plain[i], strlen(plain[i]), out),
		    coded[i]);
		assert_int_equal(base64_decode(coded[i], strlen(coded[i]), back),
		    (long)strlen(plain[i]));
		assert_memory_equal(back, plain[i], strlen(plain[i]));
	}
}

static void
test_uuid_bytes_round_trip_without_padding(void **state)
{
	uint8_t uuid[16], back[32];
	char text[32];

	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(i * 37 + 200);
	base64_encode(uuid, 16, text);
	assert_int_equal(strlen(text), 24);
	/* clients may strip the padding */
	assert_int_equal(base64_decode(text, 22, back), 16);
	assert_memory_equal(back, uuid, 16);
}

static void
test_garbage_is_rejected(void **state)
{
	uint8_t out[32];

	assert_int_equal(base64_decode("ab!d", 4, out), -1);
	assert_int_equal(base64_decode("a", 1, out), -1);
	assert_int_equal(base64_decode("ab cd", 5, out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors_encode_and_decode),
		cmocka_unit_test(test_uuid_bytes_round_trip_without_padding),
		cmocka_unit_test(test_garbage_is_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
