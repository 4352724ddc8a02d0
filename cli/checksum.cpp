// SHA-256 through OpenSSL's EVP interface.
#include "checksum.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace tenantctl {

// OpenSSL's digest context.
struct Sha256::State {
	EVP_MD_CTX *context = nullptr;
};

// Starts an empty digest.
Sha256::Sha256() : state_(std::make_unique<State>())
{
	state_->context = EVP_MD_CTX_new();
	if (state_->context == nullptr || EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr) != 1)
		throw std::runtime_error("cannot start a SHA-256 digest (OpenSSL)");
}

// Frees OpenSSL's context.
Sha256::~Sha256()
{
	EVP_MD_CTX_free(state_->context);
}

// Adds bytes.
void Sha256::add(const char *data, size_t length)
{
	if (EVP_DigestUpdate(state_->context, data, length) != 1)
		throw std::runtime_error("SHA-256 digest failed (OpenSSL)");
}

// Returns the digest in lowercase hex.
std::string Sha256::hex()
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int length = 0;
	if (EVP_DigestFinal_ex(state_->context, digest, &length) != 1)
		throw std::runtime_error("SHA-256 digest failed (OpenSSL)");
	static const char digits[] = "0123456789abcdef";
	std::string out;
	for (unsigned int i = 0; i < length; ++i) {
		out += digits[digest[i] >> 4];
		out += digits[digest[i] & 0xf];
	}
	return out;
}

} // namespace tenantctl
