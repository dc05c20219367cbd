#include "cli.h"

int main(int argc, char** argv) { return mtastream::run_cli(argc, argv); }
