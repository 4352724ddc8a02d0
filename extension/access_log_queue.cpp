// The queue file of access events (see access_log_queue.hpp). Plain POSIX
// calls: nothing here raises a PostgreSQL error, so it is safe anywhere,
// including while a refused statement is being reported.
#include "access_log_queue.hpp"

extern "C" {
#include "common/file_perm.h"
#include "port/pg_crc32c.h"
}

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tenancy::access_log::queue {

namespace {

constexpr uint32 record_magic = 0x50475444; // "PGTD"

// Writes the path of a database's queue (relative to the data directory,
// which is every backend's working directory) into a buffer.
void path_of(Oid database, char *path, size_t size)
{
	snprintf(path, size, "pg_stat_tmp/pg_tenancy_access.%u", database);
}

// Opens and exclusively locks a database's queue; -1 on failure.
int open_locked(Oid database, int flags)
{
	char path[MAXPGPATH];
	path_of(database, path, sizeof(path));
	int fd = open(path, flags | PG_BINARY, pg_file_create_mode);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

// Unlocks and closes a queue.
void close_locked(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

// Returns the CRC-32C of a record's bytes before its checksum.
uint32 checksum_of(const Record &record)
{
	pg_crc32c crc;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &record, offsetof(Record, checksum));
	FIN_CRC32C(crc);
	return crc;
}

} // namespace

// Seals a record.
void seal(Record &record)
{
	record.magic = record_magic;
	record.checksum = checksum_of(record);
}

// Says whether a record is whole and unchanged.
bool intact(const Record &record)
{
	return record.magic == record_magic && record.checksum == checksum_of(record);
}

// Appends a record to a database's queue.
bool append(Oid database, const Record &record)
{
	int fd = open_locked(database, O_WRONLY | O_APPEND | O_CREAT);
	if (fd < 0)
		return false;
	struct stat status;
	bool written = fstat(fd, &status) == 0 && status.st_size < max_bytes &&
				   write(fd, &record, sizeof(record)) == static_cast<ssize_t>(sizeof(record));
	close_locked(fd);
	return written;
}

// Reads records from the front of a database's queue.
int peek(Oid database, Record *records, int capacity)
{
	int fd = open_locked(database, O_RDONLY | O_CREAT);
	if (fd < 0)
		return -1;
	struct stat status;
	if (fstat(fd, &status) != 0) {
		close_locked(fd);
		return -1;
	}
	off_t available = status.st_size / static_cast<off_t>(sizeof(Record));
	int count = static_cast<int>(Min(available, static_cast<off_t>(capacity)));
	ssize_t wanted = static_cast<ssize_t>(count) * static_cast<ssize_t>(sizeof(Record));
	bool read_all = count == 0 || pread(fd, records, wanted, 0) == wanted;
	close_locked(fd);
	return read_all ? count : -1;
}

// Removes the first count records of a database's queue.
bool consume(Oid database, int count)
{
	int fd = open_locked(database, O_RDWR | O_CREAT);
	if (fd < 0)
		return false;
	struct stat status;
	if (fstat(fd, &status) != 0) {
		close_locked(fd);
		return false;
	}
	// Move the whole records behind the consumed ones to the front, then cut
	// the file after them; a torn record at the end (a crash in the middle
	// of a write) goes.
	off_t whole = status.st_size / static_cast<off_t>(sizeof(Record)) * static_cast<off_t>(sizeof(Record));
	off_t start = Min(whole, static_cast<off_t>(count) * static_cast<off_t>(sizeof(Record)));
	off_t rest = whole - start;
	char buffer[64 * 1024];
	for (off_t moved = 0; moved < rest;) {
		ssize_t chunk = pread(fd, buffer, Min(static_cast<off_t>(sizeof(buffer)), rest - moved), start + moved);
		if (chunk <= 0 || pwrite(fd, buffer, chunk, moved) != chunk) {
			close_locked(fd);
			return false;
		}
		moved += chunk;
	}
	bool cut = ftruncate(fd, rest) == 0;
	close_locked(fd);
	return cut;
}

// Returns how many records a database's queue holds.
int64 pending(Oid database)
{
	char path[MAXPGPATH];
	path_of(database, path, sizeof(path));
	struct stat status;
	if (stat(path, &status) != 0)
		return errno == ENOENT ? 0 : -1;
	return status.st_size / static_cast<off_t>(sizeof(Record));
}

// Runs leave() while the queue is locked and empty.
bool when_empty(Oid database, void (*leave)())
{
	int fd = open_locked(database, O_RDWR | O_CREAT);
	if (fd < 0)
		return false;
	struct stat status;
	bool empty = fstat(fd, &status) == 0 && status.st_size == 0;
	if (empty)
		leave();
	close_locked(fd);
	return empty;
}

} // namespace tenancy::access_log::queue
