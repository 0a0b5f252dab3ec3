// The system OpenSSL (libssl-dev), plus static inline wrappers for the function-like macros
// and SSL_OP_* constants that the Swift importer cannot see. No logic lives here.
#ifndef CHERALD_OPENSSL_SHIM_H
#define CHERALD_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static inline int cherald_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long cherald_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline void cherald_ctx_set_read_ahead(SSL_CTX *ctx, int yes) { SSL_CTX_set_read_ahead(ctx, yes); }
static inline uint64_t cherald_op_ignore_unexpected_eof(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
static inline uint64_t cherald_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t cherald_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline long cherald_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline uint64_t cherald_op_cipher_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t cherald_op_no_session_resumption_on_renegotiation(void) {
    return SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION;
}
static inline void cherald_openssl_free(void *p) { OPENSSL_free(p); }
static inline int cherald_ctx_set_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
/// Writes the RFC 2253 form of `name` into `buf` (NUL-terminated, truncated to `len`); returns its length or -1.
static inline int cherald_name_rfc2253(X509_NAME *name, char *buf, int len) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || len <= 0) { BIO_free(bio); return -1; }
    int rc = X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (rc < 0 || n < 0) { BIO_free(bio); return -1; }
    if (n > len - 1) { n = len - 1; }
    if (n > 0) { memcpy(buf, data, (size_t)n); }
    buf[n] = 0;
    BIO_free(bio);
    return (int)n;
}
#endif
