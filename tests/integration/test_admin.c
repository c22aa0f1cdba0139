#include "itest.h"
int main(int argc, char **argv)
{
	itest_init(argc, argv);
	return 0;
}
