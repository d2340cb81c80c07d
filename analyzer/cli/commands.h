/* commands.h — the functions behind commands.def, one per subcommand. */
#ifndef HS_COMMANDS_H
#define HS_COMMANDS_H

int hs_cmd_capture(int argc, char **argv);
int hs_cmd_watch(int argc, char **argv);
int hs_cmd_summary(int argc, char **argv);
int hs_cmd_convert(int argc, char **argv);
int hs_cmd_export(int argc, char **argv);
int hs_cmd_check(int argc, char **argv);
int hs_cmd_redact(int argc, char **argv);
int hs_cmd_load(int argc, char **argv);
int hs_cmd_types(int argc, char **argv);
int hs_cmd_top(int argc, char **argv);
int hs_cmd_cycles(int argc, char **argv);
int hs_cmd_garbage(int argc, char **argv);
int hs_cmd_show(int argc, char **argv);
int hs_cmd_path(int argc, char **argv);
int hs_cmd_referrers(int argc, char **argv);
int hs_cmd_deep(int argc, char **argv);
int hs_cmd_diff(int argc, char **argv);
int hs_cmd_query(int argc, char **argv);
int hs_cmd_sql(int argc, char **argv);
int hs_cmd_shell(int argc, char **argv);
int hs_cmd_leaks(int argc, char **argv);
int hs_cmd_report(int argc, char **argv);

#endif
