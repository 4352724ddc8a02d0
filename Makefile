# pg_tenancy: PGXS build of the server extension and of tenantctl, plus the
# user-facing targets: deps, demo, test, bench.
#
#   make demo    install what is missing, build, and walk through the product
#   make test    run every test against a throwaway PostgreSQL 15 cluster
#   make bench   run the benchmarks and print ratios against a baseline

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config

EXTENSION  = pg_tenancy
MODULE_big = pg_tenancy
OBJS       = $(patsubst %.cpp,%.o,$(sort $(wildcard extension/*.cpp)))
# The scripts of the current version are assembled from sql/src/, one file per
# concern: objects/ (roles, types, tables: created once), functions/ (all
# CREATE OR REPLACE, so that every upgrade simply runs them again) and wiring/
# (triggers, policies, event triggers). The install script is all three.
# sql/upgrade/ holds the hand-written parts of each step between versions,
# OLD--NEW.before.sql and OLD--NEW.after.sql; an upgrade script from an
# earlier version is the before parts of every step to the current version,
# the objects this version adds, functions/, then the after parts. Install
# scripts of earlier versions are kept frozen as they shipped.
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" pg_tenancy.control)
FUNCTIONS_SQL = $(sort $(wildcard sql/src/functions/*.sql))
INSTALL_SQL   = $(sort $(wildcard sql/src/objects/*.sql)) $(FUNCTIONS_SQL) $(sort $(wildcard sql/src/wiring/*.sql))
# The objects a step adds (created once) go into the upgrade scripts that take it.
NEW_OBJECTS_0.2--0.3 = sql/src/objects/04_platform_grants.sql
NEW_OBJECTS_0.4--0.5 = sql/src/objects/05_protect_jobs.sql
NEW_OBJECTS_0.6--0.7 = sql/src/objects/06_tenant_events.sql sql/src/objects/07_plans.sql \
                       sql/src/objects/08_row_counts.sql sql/src/objects/09_setting_definitions.sql
NEW_OBJECTS_0.7--0.8 = sql/src/objects/10_regions.sql sql/src/objects/11_alerts.sql sql/src/objects/12_usage.sql
NEW_OBJECTS_0.8--0.9 = sql/src/objects/13_pii.sql
NEW_OBJECTS_0.10--0.11 = sql/src/objects/14_migrations.sql sql/src/objects/15_cache.sql
NEW_OBJECTS_0.11--0.12 = sql/src/objects/16_union_views.sql
# The steps from each earlier version to the current one.
STEPS_FROM_0.1 = 0.1--0.2 0.2--0.3 0.3--0.4 0.4--0.5 0.5--0.6 0.6--0.7 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.2 = 0.2--0.3 0.3--0.4 0.4--0.5 0.5--0.6 0.6--0.7 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.3 = 0.3--0.4 0.4--0.5 0.5--0.6 0.6--0.7 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.4 = 0.4--0.5 0.5--0.6 0.6--0.7 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.5 = 0.5--0.6 0.6--0.7 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.6 = 0.6--0.7 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.7 = 0.7--0.8 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.8 = 0.8--0.9 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.9 = 0.9--0.10 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.10 = 0.10--0.11 0.11--0.12 0.12--0.13
STEPS_FROM_0.11 = 0.11--0.12 0.12--0.13
STEPS_FROM_0.12 = 0.12--0.13
UPGRADE_FROM   = 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 0.10 0.11 0.12
upgrade_sql = $(foreach step,$(STEPS_FROM_$(1)),sql/upgrade/$(step).before.sql) \
              $(foreach step,$(STEPS_FROM_$(1)),$(NEW_OBJECTS_$(step))) \
              $(FUNCTIONS_SQL) $(foreach step,$(STEPS_FROM_$(1)),sql/upgrade/$(step).after.sql)
UPGRADE_SCRIPTS = $(foreach from,$(UPGRADE_FROM),sql/pg_tenancy--$(from)--$(EXTVERSION).sql)
DATA_built = sql/pg_tenancy--$(EXTVERSION).sql $(UPGRADE_SCRIPTS)
DATA       = $(filter-out $(DATA_built),$(sort $(wildcard sql/pg_tenancy--*.sql)))

# Our C++ is compiled with warnings as errors; PostgreSQL's own headers are
# included as system headers so that their warnings are not ours.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wno-missing-field-initializers -fvisibility=hidden
SHLIB_LINK  = -lstdc++ -licui18n -licuuc

# PGXS would also emit LLVM bitcode for JIT inlining when the server was built
# with LLVM. Our functions are called through fmgr and are not worth inlining,
# and emitting bitcode for C++ would need a clang that matches the server's, so
# we turn the step off deliberately.
override with_llvm = no

# tenantctl: the operator CLI (libpqxx + CLI11). Built and installed beside the
# extension; it links only libpqxx/libpq and never the server.
TENANTCTL        = cli/tenantctl
TENANTCTL_SRCS   = $(sort $(wildcard cli/*.cpp))
TENANTCTL_OBJS   = $(TENANTCTL_SRCS:.cpp=.o)
TENANTCTL_BINDIR ?= /usr/local/bin
# The man page (man/tenantctl.1, hand-written) and the shell completions,
# which tenantctl generates from its own command tree at install time. The
# defaults are where man, bash-completion and zsh look without configuration.
TENANTCTL_MANDIR ?= /usr/local/share/man
TENANTCTL_BASHCOMPDIR ?= /usr/local/share/bash-completion/completions
TENANTCTL_ZSHCOMPDIR ?= /usr/local/share/zsh/site-functions
TENANTCTL_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -I$(shell $(PG_CONFIG) --includedir 2>/dev/null)
TENANTCTL_VERSION := $(EXTVERSION)

EXTRA_CLEAN = $(TENANTCTL) $(TENANTCTL_OBJS) results regression.diffs updated-regression.diffs regression.out \
              output_iso bench/out

# Installing into PostgreSQL's directories needs root; use sudo otherwise.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps demo test bench install-tenantctl

all: $(TENANTCTL)

ifneq ($(wildcard $(PG_CONFIG)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
install: install-tenantctl
endif

sql/pg_tenancy--$(EXTVERSION).sql: $(INSTALL_SQL)
	cat $^ > $@

sql/pg_tenancy--0.1--$(EXTVERSION).sql: $(call upgrade_sql,0.1)
	cat $^ > $@

sql/pg_tenancy--0.2--$(EXTVERSION).sql: $(call upgrade_sql,0.2)
	cat $^ > $@

sql/pg_tenancy--0.3--$(EXTVERSION).sql: $(call upgrade_sql,0.3)
	cat $^ > $@

sql/pg_tenancy--0.4--$(EXTVERSION).sql: $(call upgrade_sql,0.4)
	cat $^ > $@

sql/pg_tenancy--0.5--$(EXTVERSION).sql: $(call upgrade_sql,0.5)
	cat $^ > $@

sql/pg_tenancy--0.6--$(EXTVERSION).sql: $(call upgrade_sql,0.6)
	cat $^ > $@

sql/pg_tenancy--0.7--$(EXTVERSION).sql: $(call upgrade_sql,0.7)
	cat $^ > $@

sql/pg_tenancy--0.8--$(EXTVERSION).sql: $(call upgrade_sql,0.8)
	cat $^ > $@

sql/pg_tenancy--0.9--$(EXTVERSION).sql: $(call upgrade_sql,0.9)
	cat $^ > $@

sql/pg_tenancy--0.10--$(EXTVERSION).sql: $(call upgrade_sql,0.10)
	cat $^ > $@

sql/pg_tenancy--0.11--$(EXTVERSION).sql: $(call upgrade_sql,0.11)
	cat $^ > $@

sql/pg_tenancy--0.12--$(EXTVERSION).sql: $(call upgrade_sql,0.12)
	cat $^ > $@

cli/%.o: cli/%.cpp $(wildcard cli/*.hpp)
	$(CXX) $(TENANTCTL_CXXFLAGS) -DTENANTCTL_VERSION='"$(TENANTCTL_VERSION)"' -c -o $@ $<

# The version printed by tenantctl --version comes from the control file.
cli/main.o: pg_tenancy.control

$(TENANTCTL): $(TENANTCTL_OBJS)
	$(CXX) -o $@ $^ -lpqxx -lpq -lcrypto -lxlsxwriter

install-tenantctl: $(TENANTCTL) man/tenantctl.1
	install -D -m 755 $(TENANTCTL) $(DESTDIR)$(TENANTCTL_BINDIR)/tenantctl
	install -D -m 644 man/tenantctl.1 $(DESTDIR)$(TENANTCTL_MANDIR)/man1/tenantctl.1
	install -d $(DESTDIR)$(TENANTCTL_BASHCOMPDIR) $(DESTDIR)$(TENANTCTL_ZSHCOMPDIR)
	$(TENANTCTL) completion bash > $(DESTDIR)$(TENANTCTL_BASHCOMPDIR)/tenantctl
	$(TENANTCTL) completion zsh > $(DESTDIR)$(TENANTCTL_ZSHCOMPDIR)/_tenantctl

$(OBJS): $(wildcard extension/*.hpp)

# Installs the Debian packages the project needs when they are missing.
deps:
	@tools/deps.sh

# Builds, installs, starts a throwaway cluster and walks through the product.
demo: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(SUDO) $(MAKE) --no-print-directory install >/dev/null
	@tools/demo.sh

# Runs every test against a throwaway cluster; the last line is "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(SUDO) $(MAKE) --no-print-directory install >/dev/null
	@tools/run-tests.sh

# Runs the pgbench benchmarks and prints median TPS ratios against baselines.
bench: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(SUDO) $(MAKE) --no-print-directory install >/dev/null
	@tools/run-bench.sh
