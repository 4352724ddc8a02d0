// SHA-256 of a stream of bytes (OpenSSL), for the manifest of an export.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace tenantctl {

// A running SHA-256: add bytes, then read the digest in hex.
class Sha256 {
public:
	// Starts an empty digest.
	Sha256();
	~Sha256();
	Sha256(const Sha256 &) = delete;
	Sha256 &operator=(const Sha256 &) = delete;

	// Adds bytes.
	void add(const char *data, size_t length);

	// Returns the digest of everything added, in lowercase hex (once).
	std::string hex();

private:
	struct State;
	std::unique_ptr<State> state_;
};

} // namespace tenantctl
