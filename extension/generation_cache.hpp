// Caches of values computed from pg_tenancy's catalog, kept until the next
// invalidation (see invalidation.hpp).
//
// The one rule that makes them correct: a value is stamped with the
// generation read *before* it is computed. Computing may process invalidation
// messages (opening a table does); if one arrives after the value's snapshot
// was taken, the generation moves past the stamp and the value is computed
// again at the next use, instead of being cached as fresh.
#pragma once

#include "invalidation.hpp"

#include <string>
#include <unordered_map>
#include <utility>

namespace tenancy {

// One cached value.
template <typename Value>
class GenerationCached {
public:
	// Returns the value, computing it when the catalog may have changed since.
	template <typename Compute>
	const Value &get(Compute &&compute)
	{
		if (valid_ && stamp_ == invalidation::generation())
			return value_;
		uint64 stamp = invalidation::generation();
		valid_ = false;
		value_ = compute();
		stamp_ = stamp;
		valid_ = true;
		return value_;
	}

private:
	bool valid_ = false;
	uint64 stamp_ = 0;
	Value value_{};
};

// Values cached by key; at most limit of them (then all are forgotten).
template <typename Value>
class GenerationMap {
public:
	explicit GenerationMap(size_t limit) : limit_(limit) {}

	// Returns the value for key, computing it when absent or possibly stale.
	template <typename Compute>
	const Value &get(const std::string &key, Compute &&compute)
	{
		auto found = entries_.find(key);
		if (found != entries_.end() && found->second.first == invalidation::generation())
			return found->second.second;
		uint64 stamp = invalidation::generation();
		put(key, stamp, compute());
		return entries_[key].second;
	}

	// Stores a value computed elsewhere, stamped with the generation read
	// before it was computed.
	void put(const std::string &key, uint64 stamp, Value value)
	{
		if (entries_.size() >= limit_)
			entries_.clear();
		entries_[key] = {stamp, std::move(value)};
	}

	// Forgets the value for key.
	void forget(const std::string &key) { entries_.erase(key); }

private:
	size_t limit_;
	std::unordered_map<std::string, std::pair<uint64, Value>> entries_;
};

} // namespace tenancy
