import type { Command } from 'commander';
import type { AppConfig } from './config.ts';

/**
 * CLI commands contributed by domain modules (bootstrap-inventory, sync, simulate-pms, demo).
 * Each module adds a `register…Command(program, config)` call here.
 */
export function registerCommands(_program: Command, _config: () => AppConfig): void {}
