import { EmailField, PasswordField } from '../../users/dto/credentials.fields';

/** The body of `POST /sessions`. */
export class LoginDto {
  @EmailField()
  email!: string;

  @PasswordField()
  password!: string;
}
