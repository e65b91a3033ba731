/* SPDX-License-Identifier: MIT */
/* meson install, the systemd units and the man pages, as a packager sees them. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static char dest[64], out[65536];

static const char *
build_root(void)
{
	const char *dir = getenv("TCPD_BUILD_ROOT");

	cr_assert_not_null(dir, "TCPD_BUILD_ROOT must name the build directory");
	return dir;
}

static void
install_into(const char *dir)
{
	const char *argv[] = { "/usr/bin/meson", "install", "-C", build_root(),
	    "--destdir", dir, "--no-rebuild", "--quiet", NULL };

	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0, "%s", out);
}

static void
setup(void)
{
	temp_dir_make(dest, sizeof(dest), "tcpd-install");
	install_into(dest);
}

static void
teardown(void)
{
	temp_dir_remove(dest);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 120);

static bool
exists(const char *fmt, const char *a)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), fmt, dest, a);
	return stat(path, &st) == 0;
}

Test(install, puts_everything_in_place)
{
	char path[512], shipped[512], installed[65536];
	const char *unit;

	cr_assert(exists("%s/usr/local/sbin/tcpd%s", ""));
	cr_assert(exists("%s/usr/local/bin/tcpd-cli%s", ""));
	cr_assert(exists("%s/usr/local/share/man/man8/tcpd.8%s", ""));
	cr_assert(exists("%s/usr/local/share/man/man5/tcpd.conf.5%s", ""));
	cr_assert(exists("%s/usr/local/share/man/man1/tcpd-cli.1%s", ""));
	cr_assert(exists("%s/lib/systemd/system/tcpd.socket%s", ""));
	snprintf(path, sizeof(path), "%s/lib/systemd/system/tcpd.service", dest);
	unit = slurp(path);
	cr_assert_not_null(strstr(unit, "\nExecStart=/usr/local/sbin/tcpd --config "
	    "/usr/local/etc/tcpd.conf\n"), "%s", unit);
	cr_assert_null(strstr(unit, "@sbindir@"), "placeholders are filled in");
	cr_assert_null(strstr(unit, "@sysconfdir@"), "placeholders are filled in");
	snprintf(path, sizeof(path), "%s/usr/local/etc/tcpd.conf", dest);
	snprintf(installed, sizeof(installed), "%s", slurp(path));
	snprintf(shipped, sizeof(shipped), "%s/conf/tcpd.conf", source_root());
	cr_assert_str_eq(installed, slurp(shipped));
}

Test(install, never_overwrites_an_existing_config)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/usr/local/etc/tcpd.conf", dest);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("; the admin's own\n", f);
	fclose(f);
	install_into(dest);
	cr_assert_str_eq(slurp(path), "; the admin's own\n");
}

/* The installed units, with paths pointing into the destdir so that the
 * binaries systemd-analyze looks for exist. */
static void
staged_units(char *dir, size_t size)
{
	char cmd[1024];

	snprintf(dir, size, "%s/units", dest);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%1$s' && sed 's#/usr/local#%2$s/usr/local#g' "
	    "'%2$s/lib/systemd/system/tcpd.service' > '%1$s/tcpd.service' && "
	    "cp '%2$s/lib/systemd/system/tcpd.socket' '%1$s/'", dir, dest);
	cr_assert_eq(system(cmd), 0);
}

Test(install, units_pass_systemd_analyze_verify)
{
	char dir[256], service[300], socket_unit[300];
	const char *argv[] = { "/usr/bin/systemd-analyze", "verify", "--man=no",
	    service, socket_unit, NULL };

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("systemd-analyze is not installed");
	staged_units(dir, sizeof(dir));
	snprintf(service, sizeof(service), "%s/tcpd.service", dir);
	snprintf(socket_unit, sizeof(socket_unit), "%s/tcpd.socket", dir);
	/* verify only warns about unknown keys and bad values: any output fails. */
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "");
}

Test(install, service_hardening_scores_below_2)
{
	char dir[256], service[300], *score;
	const char *argv[] = { "/usr/bin/systemd-analyze", "security", "--offline=true",
	    "--no-pager", service, NULL };
	double level;

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("systemd-analyze is not installed");
	staged_units(dir, sizeof(dir));
	snprintf(service, sizeof(service), "%s/tcpd.service", dir);
	run_capture(argv, out, sizeof(out));
	cr_assert_not_null(score = strstr(out, "Overall exposure level for tcpd.service: "),
	    "%s", out);
	cr_assert_eq(sscanf(score + 41, "%lf", &level), 1);
	cr_assert_lt(level, 2.0, "exposure %.1f", level);
	cr_log_info("systemd-analyze security: exposure %.1f", level);
}

Test(install, man_pages_lint_clean)
{
	char page[512];
	const char *pages[] = { "tcpd.8", "tcpd.conf.5", "tcpd-cli.1" };
	const char *argv[] = { "/usr/bin/mandoc", "-T", "lint", "-W", "warning", page, NULL };
	int i;

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("mandoc is not installed");
	for (i = 0; i < 3; i++) {
		snprintf(page, sizeof(page), "%s/doc/%s", source_root(), pages[i]);
		cr_assert_eq(run_capture(argv, out, sizeof(out)), 0, "%s", out);
		cr_assert_str_eq(out, "");
	}
}

Test(install, runs_under_a_real_systemd_in_a_container, .timeout = 180)
{
	char script[512];
	const char *argv[] = { "/bin/bash", script, build_root(), NULL };
	int rc;

#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("the unit's SystemCallFilter forbids what LeakSanitizer needs at "
	    "exit; the plain build runs this test");
#endif
	snprintf(script, sizeof(script), "%s/tests/systemd-e2e.sh", source_root());
	rc = run_capture(argv, out, sizeof(out));
	if (rc == 77)
		cr_skip_test("%s", out);
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_not_null(strstr(out, "\nPASS\n"), "%s", out);
	cr_log_info("%s", out);
}
