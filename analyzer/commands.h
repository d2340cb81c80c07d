/* commands.h — the functions behind commands.def, one per subcommand. */
#ifndef HS_COMMANDS_H
#define HS_COMMANDS_H

int hs_cmd_summary(int argc, char **argv);
int hs_cmd_convert(int argc, char **argv);
int hs_cmd_export(int argc, char **argv);
int hs_cmd_check(int argc, char **argv);

#endif
